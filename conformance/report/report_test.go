package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/conformance/catalog"
)

func inputs(specs []SpecRecord, declares func(string) bool, focus ...string) Inputs {
	return Inputs{Catalog: catalog.MustLoad(), Profiles: []string{"core"}, Focus: focus, Declares: declares, Specs: specs,
		Implementation: "x", HarnessVersion: "v", Seed: 1, Started: time.Unix(0, 0), Duration: time.Second}
}

func all(string) bool { return true }

func result(r *Report, id string) Requirement {
	for _, q := range r.Requirements {
		if q.ID == id {
			return q
		}
	}
	return Requirement{}
}

func TestJudge(t *testing.T) {
	specs := []SpecRecord{
		{Name: "a", Requirements: []string{"OUT-1"}, State: SpecPassed, Samples: enough("OUT-1")},
		{Name: "b", Requirements: []string{"OUT-2"}, State: SpecFailed, Message: "boom"},
		{Name: "c", Requirements: []string{"TEN-2"}, State: SpecPassed, Verdict: Inconclusive, Message: "control"},
		{Name: "d", Requirements: []string{"ADM-2"}, State: SpecPassed, Verdict: Invalid, Message: "gate"},
		{Name: "e", Requirements: []string{"TEN-1"}, State: SpecPassed},
		{Name: "f", Requirements: []string{"TEN-1"}, State: SpecFailed, Message: "second spec failed"},
	}
	r := Compute(inputs(specs, func(f string) bool { return f != "versions" }))
	for id, want := range map[string]Result{"OUT-1": Pass, "OUT-2": Fail, "TEN-2": Inconclusive, "ADM-2": Invalid, "TEN-1": Fail, "VER-1": NotSupported, "QUO-1": NotRun} {
		if got := result(r, id).Result; got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
	if r.Profiles[0].Result != "failure" {
		t.Errorf("profile %s with failed MUSTs", r.Profiles[0].Result)
	}
	fails := r.MustFailures()
	for _, q := range fails {
		if q.Result == NotSupported {
			t.Errorf("NOT_SUPPORTED %s counted as a failure", q.ID)
		}
	}
}

func TestFocusAndSuccess(t *testing.T) {
	r := Compute(inputs([]SpecRecord{{Name: "a", Requirements: []string{"OUT-1"}, State: SpecPassed, Samples: enough("OUT-1")}}, all, "OUT-1"))
	if len(r.Requirements) != 1 || r.Profiles[0].Result != "success" || len(r.MustFailures()) != 0 {
		t.Fatalf("focused report %+v", r)
	}
}

func TestWriters(t *testing.T) {
	r := Compute(inputs([]SpecRecord{
		{Name: "a", Requirements: []string{"OUT-1"}, State: SpecPassed, Evidence: []string{"ok"}, Samples: enough("OUT-1")},
		{Name: "b", Requirements: []string{"OUT-2"}, State: SpecFailed, Message: "a | b"},
	}, all, "OUT-1", "OUT-2", "VER-1"))
	var j bytes.Buffer
	if err := WriteJSON(&j, r); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(j.Bytes(), &back); err != nil || back.SchemaVersion != SchemaVersion || len(back.Requirements) != 3 {
		t.Fatalf("JSON round trip: %v %+v", err, back)
	}
	var x bytes.Buffer
	if err := WriteJUnit(&x, r); err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(x.Bytes(), &suites); err != nil {
		t.Fatal(err)
	}
	if suites.Tests != 3 || suites.Failures != 1 || suites.Skipped != 1 {
		t.Fatalf("junit counts %d tests, %d failures, %d skipped", suites.Tests, suites.Failures, suites.Skipped)
	}
	var m bytes.Buffer
	if err := WriteMarkdown(&m, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.String(), "| OUT-2 | MUST | FAIL |") || !strings.Contains(m.String(), `a \| b`) {
		t.Fatalf("markdown:\n%s", m.String())
	}
}
