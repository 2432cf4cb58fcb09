package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Read loads the report.json a certification wrote into dir, so tools and tests that judge a
// stored run read it one way.
func Read(dir string) (*Report, error) {
	raw, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		return nil, err
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, JSONFile), err)
	}
	return &rep, nil
}
