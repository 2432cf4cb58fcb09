// Package journal writes and reads what a game day leaves in its output directory: journal.json
// (the run's Outcome with what identifies it: scenario, target, seed, harness), ledger.jsonl
// (every request, streamed to disk as it ends so memory stays flat), summary.md and junit.xml.
// `arcert gameday report DIR` reads them back, so every file here is a versioned format and
// every reading error names the file, the line where there is one, and what is wrong.
package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aruntime/arcert/chaos/scenario"
)

// SchemaVersion names the journal's format; Read refuses any other.
const SchemaVersion = "arcert.gameday/v1"

// Files a game day writes into its output directory.
const (
	JournalFile = "journal.json"
	LedgerFile  = "ledger.jsonl"
	SummaryFile = "summary.md"
	JUnitFile   = "junit.xml"
)

// Journal is the record of one game day: which scenario ran against which target with which
// seed and harness, how it ended, and the engine's whole Outcome (phases, faults, probes,
// expectations, abort, rollback, residue, recovery, totals). Seed, Status, Start and End repeat
// the Outcome's so a reader (jq, a dashboard) finds them at the top.
type Journal struct {
	Schema   string          `json:"schema"`
	Harness  string          `json:"harness_version"`
	Scenario File            `json:"scenario"`
	Target   File            `json:"target"`
	Seed     int64           `json:"seed"`
	Status   scenario.Status `json:"status"`
	Start    time.Time       `json:"start"`
	End      time.Time       `json:"end"`
	// DeclaredRecovery is the plan's recovery time (the target's resilience.recovery), the bound
	// Outcome.Recovery was judged against.
	DeclaredRecovery time.Duration    `json:"declared_recovery"`
	Outcome          scenario.Outcome `json:"outcome"`
}

// File names what the run depended on (the scenario's or target's name), the file it came from
// and the file's SHA-256, so a journal says exactly which scenario and target produced it. Path
// and SHA256 are empty for a target with no file (--embedded).
type File struct {
	Name   string `json:"name"`
	Path   string `json:"path,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// New is the journal of outcome o: its seed, status and times are o's.
func New(o scenario.Outcome, harness string, scenarioFile, target File, declaredRecovery time.Duration) Journal {
	return Journal{
		Schema: SchemaVersion, Harness: harness, Scenario: scenarioFile, Target: target,
		Seed: o.Seed, Status: o.Status, Start: o.Start, End: o.End,
		DeclaredRecovery: declaredRecovery, Outcome: o,
	}
}

// HashFile names the file at path by its base name (a caller with a better name sets Name) and
// the SHA-256 of its content.
func HashFile(path string) (File, error) {
	f, err := os.Open(path) // #nosec G304 -- the user's own scenario or target file
	if err != nil {
		return File{}, fmt.Errorf("journal: %w", err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return File{}, fmt.Errorf("journal: reading %s: %w", path, err)
	}
	return File{Name: filepath.Base(path), Path: path, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Write writes j as DIR/journal.json, creating DIR. It writes a temporary file and renames it,
// so a reader never sees half a journal. It does not judge j: an errored day's incomplete
// journal is kept rather than lost, and Read says what is wrong with it.
func Write(dir string, j Journal) error {
	if j.Schema == "" {
		j.Schema = SchemaVersion
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("journal: encoding %s: %w", JournalFile, err)
	}
	return writeAtomic(filepath.Join(dir, JournalFile), append(data, '\n'))
}

// writeAtomic writes data to path through a synced temporary file in the same directory.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("journal: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Read reads DIR/journal.json. A syntax or type error names FILE:LINE:COL; a journal of another
// schema, an unknown status or times out of order name the field.
func Read(dir string) (Journal, error) {
	path := filepath.Join(dir, JournalFile)
	data, err := os.ReadFile(path) // #nosec G304 -- the directory the user named
	if err != nil {
		return Journal{}, fmt.Errorf("journal: %w", err)
	}
	var j Journal
	if err := json.Unmarshal(data, &j); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return Journal{}, fmt.Errorf("journal: %s:%s: %w", path, lineCol(data, syn.Offset), err)
		case errors.As(err, &typ):
			return Journal{}, fmt.Errorf("journal: %s:%s: %s: %s is not a %s", path, lineCol(data, typ.Offset), typ.Field, typ.Value, typ.Type)
		}
		return Journal{}, fmt.Errorf("journal: %s: %w", path, err)
	}
	if err := j.check(); err != nil {
		return Journal{}, fmt.Errorf("journal: %s: %w", path, err)
	}
	return j, nil
}

// statuses are the run statuses a journal may hold.
var statuses = []scenario.Status{scenario.StatusCompleted, scenario.StatusDeviated, scenario.StatusAborted, scenario.StatusInvalid, scenario.StatusErrored}

// check reports the first thing in j a reader could not trust, as "field: what is wrong".
func (j Journal) check() error {
	switch {
	case j.Schema != SchemaVersion:
		return fmt.Errorf("schema: %q is not %q", j.Schema, SchemaVersion)
	case !slices.Contains(statuses, j.Status):
		return fmt.Errorf("status: %q is not one of %v", j.Status, statuses)
	case j.Scenario.Name == "":
		return errors.New("scenario.name: empty")
	case j.Start.IsZero():
		return errors.New("start: missing")
	case j.End.Before(j.Start):
		return fmt.Errorf("end: %s is before start %s", j.End.Format(time.RFC3339Nano), j.Start.Format(time.RFC3339Nano))
	}
	for _, f := range []struct {
		field string
		sum   string
	}{{"scenario.sha256", j.Scenario.SHA256}, {"target.sha256", j.Target.SHA256}} {
		if b, err := hex.DecodeString(f.sum); f.sum != "" && (err != nil || len(b) != sha256.Size) {
			return fmt.Errorf("%s: %q is not a SHA-256 in hex", f.field, f.sum)
		}
	}
	return nil
}

// lineCol is the 1-based "LINE:COL" of byte offset off in data.
func lineCol(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return fmt.Sprintf("%d:%d", line, max(col, 1))
}
