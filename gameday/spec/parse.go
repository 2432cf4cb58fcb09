package spec

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"

	"github.com/aruntime/arcert/internal/yamlschema"
)

//go:embed schema.json
var schemaJSON []byte

// Schema returns the JSON Schema (draft 2020-12) scenario files are validated against, for
// `arcert gameday schema`, editors and docs.
func Schema() []byte { return bytes.Clone(schemaJSON) }

// maxFileBytes bounds a scenario file; a real one is a few kilobytes.
const maxFileBytes = 1 << 20

// scenarioFormat reads scenario files, as conformance/target reads target files (see
// internal/yamlschema).
var scenarioFormat = &yamlschema.Format{
	Resource: "gameday.json",
	Schema:   schemaJSON,
	Noun:     "a scenario",
	MaxBytes: maxFileBytes,
	Unknown:  "unknown field (misspelt, or not part of " + APIVersion + " " + Kind + ")",
	Say:      schemaWords,
}

// Load reads and checks the scenario file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gameday: %w", err)
	}
	return Parse(path, data)
}

// Parse checks data against the schema and the rules a schema cannot say (fault windows within
// the phases, each fault kind with its own parameters, outcomes of the contract) and decodes it.
// Every mistake is reported, each as a *Problem (FILE:LINE: field: message), joined in line
// order; Problems lists them.
func Parse(name string, data []byte) (*File, error) {
	f := &File{Source: name}
	root, probs, err := scenarioFormat.Decode(name, data, f)
	if err != nil {
		return nil, fmt.Errorf("gameday: schema: %w", err)
	}
	if len(probs) > 0 {
		return nil, yamlschema.Join(probs, own)
	}
	f.root = root
	if probs := f.check(); len(probs) > 0 {
		return nil, locate(name, root, probs)
	}
	return f, nil
}
