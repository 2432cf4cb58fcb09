package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"github.com/aruntime/arcert/conformance/catalog"
)

// TestNoteIsWhatDecided: a PASS shows the conclusion its spec recorded last, not the first line
// of evidence; a failure shows the first line of its message.
func TestNoteIsWhatDecided(t *testing.T) {
	r := Compute(inputs([]SpecRecord{
		{Name: "a", Requirements: []string{"OUT-1"}, State: SpecPassed, Samples: enough("OUT-1"),
			Evidence: []string{"recovered in 1.2s", "ended with an error event: failed/worker_lost"}},
		{Name: "b", Requirements: []string{"OUT-2"}, State: SpecFailed, Message: "3 answers came late\n  dump line 1\n  dump line 2",
			Evidence: []string{"outcomes by class and reason: shed/overloaded 24"}},
	}, all, "OUT-1", "OUT-2"))
	if got := result(r, "OUT-1").Note; got != "ended with an error event: failed/worker_lost" {
		t.Errorf("PASS note %q", got)
	}
	if got := result(r, "OUT-2").Note; got != "3 answers came late" {
		t.Errorf("FAIL note %q", got)
	}
	var m bytes.Buffer
	if err := WriteMarkdown(&m, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.String(), "failed/worker_lost (judged ") || strings.Contains(m.String(), "recovered in") {
		t.Errorf("markdown:\n%s", m.String())
	}
}

// TestOneRowPerRequirement: a profile named twice still gives each requirement one row.
func TestOneRowPerRequirement(t *testing.T) {
	in := inputs(nil, all)
	in.Profiles = []string{"core", "core"}
	r := Compute(in)
	seen := map[string]bool{}
	for _, q := range r.Requirements {
		if seen[q.ID] {
			t.Fatalf("%s reported twice", q.ID)
		}
		seen[q.ID] = true
	}
	if len(r.Profiles) != 1 {
		t.Fatalf("%d profile rows for one profile", len(r.Profiles))
	}
}

// TestShouldDoesNotSpoilAPass: every MUST passed, no SHOULD did: the profile passes and says
// the SHOULD count apart.
func TestShouldDoesNotSpoilAPass(t *testing.T) {
	var specs []SpecRecord
	must, should := 0, 0
	for _, q := range catalog.MustLoad().InProfiles("core") {
		if q.Level != catalog.Must {
			should++
			continue
		}
		must++
		specs = append(specs, SpecRecord{Name: q.ID, Requirements: []string{q.ID}, State: SpecPassed, Samples: enough(q.ID)})
	}
	p := Compute(inputs(specs, all)).Profiles[0]
	if p.Result != "success" || p.MustPass != must || p.MustTotal != must || should == 0 {
		t.Fatalf("profile %+v with every MUST passed", p)
	}
	if want := fmt.Sprintf("%d/%d MUST, 0/%d SHOULD", must, must, should); p.Counted() != want {
		t.Fatalf("counted %q, want %q", p.Counted(), want)
	}
}

// TestJUnitAttributes: time, timestamp and errors are there, and a message attribute is one line.
func TestJUnitAttributes(t *testing.T) {
	r := Compute(inputs([]SpecRecord{
		{Name: "a", Requirements: []string{"OUT-1"}, State: SpecPassed, Samples: enough("OUT-1"), Duration: 1500_000_000},
		{Name: "b", Requirements: []string{"OUT-2"}, State: SpecFailed, Message: "first line\nsecond line"},
		{Name: "c", Requirements: []string{"TEN-2"}, State: SpecPassed, Verdict: Inconclusive, Message: "control"},
	}, all, "OUT-1", "OUT-2", "TEN-2"))
	var x bytes.Buffer
	if err := WriteJUnit(&x, r); err != nil {
		t.Fatal(err)
	}
	var s junitSuites
	if err := xml.Unmarshal(x.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Timestamp == "" || s.Time == "" || s.Errors != 1 || s.Failures != 1 || s.Suites[0].Errors != 1 || s.Suites[0].Timestamp == "" {
		t.Fatalf("junit attributes: %s", x.String())
	}
	for _, c := range s.Suites[0].Cases {
		if c.Time == "" {
			t.Errorf("%s has no time", c.Name)
		}
		if strings.HasPrefix(c.Name, "OUT-1 ") && c.Time != "1.500" {
			t.Errorf("OUT-1 time %s, want 1.500", c.Time)
		}
		if c.Failure != nil && (c.Failure.Message != "FAIL: first line" || !strings.Contains(c.Failure.Text, "second line")) {
			t.Errorf("failure message %q, body %q", c.Failure.Message, c.Failure.Text)
		}
	}
}

// TestPassWithoutConclusionNotesWhatItJudged: a PASS whose spec recorded no evidence notes the
// count of its samples, not the whole list of paths.
func TestPassWithoutConclusionNotesWhatItJudged(t *testing.T) {
	r := Compute(inputs([]SpecRecord{{Name: "a", Requirements: []string{"OUT-1"}, State: SpecPassed, Samples: enough("OUT-1")}}, all, "OUT-1"))
	q := result(r, "OUT-1")
	if q.Note != q.SamplesJudged() || !strings.HasPrefix(q.Note, "judged ") || strings.Contains(q.Note, ":") {
		t.Fatalf("note %q", q.Note)
	}
}

// TestSummarySaysWhereTheLoadWent: report.json lists every router and summary.md says how many
// the load was spread over; a run of one router names it, and a report of no run says nothing.
func TestSummarySaysWhereTheLoadWent(t *testing.T) {
	in := inputs(nil, all)
	in.Target.Endpoints = []string{"http://10.0.0.1:8080", "http://10.0.0.2:8080"}
	r := Compute(in)
	var m, j bytes.Buffer
	if err := WriteMarkdown(&m, r); err != nil {
		t.Fatal(err)
	}
	if want := "The load spread round-robin over 2 routers: http://10.0.0.1:8080, http://10.0.0.2:8080."; !strings.Contains(m.String(), want) {
		t.Errorf("summary.md lacks %q:\n%s", want, m.String())
	}
	if err := WriteJSON(&j, r); err != nil {
		t.Fatal(err)
	}
	if want := `"endpoints": [`; !strings.Contains(j.String(), want) {
		t.Errorf("report.json lacks %q", want)
	}
	if got := (Target{Endpoints: []string{"http://a:1"}}).Spread(); got != "runtime reached at http://a:1" {
		t.Errorf("one router: %q", got)
	}
	if got := (Target{}).Spread(); got != "" {
		t.Errorf("no router: %q", got)
	}
}
