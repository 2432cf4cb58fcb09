package journal

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aruntime/arcert/chaos/scenario"
)

func TestJournalRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	want := sampleJournal()
	if err := Write(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(want)
	b, _ := json.Marshal(got)
	if !bytes.Equal(a, b) {
		t.Errorf("read back a different journal:\nwrote %s\nread  %s", a, b)
	}
	if got.Outcome.Abort == nil || got.Outcome.Abort.Rule != "error_budget" || len(got.Outcome.Faults[0].Targets) != 2 {
		t.Errorf("the outcome lost its abort or fault targets: %+v", got.Outcome)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, ".*")); len(entries) > 0 {
		t.Errorf("Write left temporary files: %v", entries)
	}
}

func TestHashFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "day.yaml")
	if err := os.WriteFile(path, []byte("kind: GameDay\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// sha256sum of "kind: GameDay\n"
	if f.Name != "day.yaml" || f.SHA256 != "9779bff4be08776ffd128c54a8ba458d633621b4de8f188c705eb594ba95f394" {
		t.Errorf("HashFile = %+v", f)
	}
	if _, err := HashFile(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("hashing a missing file succeeded")
	}
}

func TestReadNamesWhatIsWrong(t *testing.T) {
	good, err := json.MarshalIndent(sampleJournal(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) string {
		if !strings.Contains(string(good), old) {
			t.Fatalf("the sample journal lacks %q", old)
		}
		return strings.Replace(string(good), old, new, 1)
	}
	for name, tc := range map[string]struct{ data, want string }{
		"syntax":   {"{\n  \"schema\": \"arcert.gameday/v1\",\n  \"seed\": 4 2\n}", "journal.json:3:13: invalid character '2'"},
		"type":     {replace(`"seed": 42`, `"seed": "42"`), "journal.json:12:14: seed: string is not a int64"},
		"schema":   {replace(`"arcert.gameday/v1"`, `"arcert.gameday/v0"`), `schema: "arcert.gameday/v0" is not "arcert.gameday/v1"`},
		"status":   {replace(`"status": "aborted"`, `"status": "fine"`), `status: "fine" is not one of`},
		"scenario": {replace(`"name": "region-evacuation"`, `"name": ""`), "scenario.name: empty"},
		"hash":     {replace(`"3f79bb7b`, `"zz79bb7b`), "scenario.sha256:"},
		"order":    {replace(`"end": "2026-12-03T14:01:15Z"`, `"end": "2026-12-03T13:00:00Z"`), "end: 2026-12-03T13:00:00Z is before start"},
		"empty":    {"", "journal.json:1:1: unexpected end of JSON input"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, JournalFile), []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Read(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Read error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := Read(t.TempDir()); err == nil || !strings.Contains(err.Error(), JournalFile) {
		t.Errorf("reading a directory with no journal: %v", err)
	}
}

func TestOnNamesWhatAFaultWentOn(t *testing.T) {
	for _, tc := range []struct {
		f    scenario.FaultRecord
		want string
	}{
		{scenario.FaultRecord{Kind: "down", Role: "region", Targets: []string{"eu-west/worker-a", "eu-west/worker-b"}}, "eu-west/worker-a, eu-west/worker-b"},
		{scenario.FaultRecord{Kind: "down", Role: "cache"}, "cache"},
		{scenario.FaultRecord{Kind: "command"}, "what its command acts on"},
	} {
		if got := On(tc.f); got != tc.want {
			t.Errorf("On(%+v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}
