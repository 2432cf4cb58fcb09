// Package report turns what the suites recorded into per-requirement results and writes them as
// JSON (a versioned schema), JUnit XML for CI and a Markdown summary. It knows nothing of Ginkgo:
// the suites hand it plain SpecRecords, so results are computed by pure functions over data.
package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/aruntime/arcert/conformance/catalog"
)

// SchemaVersion names the report format; a consumer refuses versions it does not know.
const SchemaVersion = "arcert.report/v1"

// Result is the verdict on one requirement.
type Result string

// The results of DESIGN.md §3.
const (
	Pass         Result = "PASS"
	Fail         Result = "FAIL"
	NotSupported Result = "NOT_SUPPORTED"
	Inconclusive Result = "INCONCLUSIVE"
	Invalid      Result = "INVALID"
	// NotRun is a requirement of a selected profile whose specs were filtered out (by --focus):
	// nothing was checked, so nothing is claimed.
	NotRun Result = "NOT_RUN"
)

// SpecState is how a spec ended, as the suites saw it.
type SpecState string

// The spec states a SpecRecord can carry.
const (
	SpecPassed  SpecState = "passed"
	SpecFailed  SpecState = "failed"
	SpecSkipped SpecState = "skipped"
)

// SpecRecord is one spec's outcome: the requirements it checks, how it ended, the verdict it
// declared (INCONCLUSIVE or INVALID, when a control or gate failed) and what it measured.
type SpecRecord struct {
	Name         string
	Requirements []string
	State        SpecState
	Verdict      Result // "" unless the spec declared INCONCLUSIVE or INVALID
	Message      string
	// Location is where a failed spec's assertion failed (file:line), for FailuresFile and for
	// naming the check when its message is only a dump.
	Location string
	Evidence []string
	Duration time.Duration
	// Faults are the fault windows the spec injected.
	Faults []FaultWindow
	// Plots are figures the spec recorded for report.html.
	Plots []Plot
	// Samples counts what the spec judged on each path ("http", "grpc-stream", "tenant:acme"…),
	// for every requirement of the spec, or for one when the key is "ID"+ForRequirement+"path";
	// Unprobed says, by catalogue path, why the spec could not probe it.
	Samples  map[string]int
	Unprobed map[string]string
}

// ForRequirement separates a requirement id from a path in a SpecRecord's Samples key, for
// samples that bear on one of the spec's requirements only.
const ForRequirement = "|"

// FaultWindow is one fault a spec injected and when it held, so a reader can line outcomes up
// with it.
type FaultWindow struct {
	Role  string    `json:"role"`
	Name  string    `json:"name,omitempty"`
	Part  string    `json:"part,omitempty"`
	Fault string    `json:"fault"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Requirement is one requirement's entry in the report.
type Requirement struct {
	ID      string        `json:"id"`
	Level   catalog.Level `json:"level"`
	Profile string        `json:"profile"`
	Feature string        `json:"feature"`
	Title   string        `json:"title"`
	Result  Result        `json:"result"`
	Message string        `json:"message,omitempty"`
	// Note is the one line that decided the result: the failure or gate message, or for a PASS
	// the conclusion its specs recorded last. Summaries show it.
	Note     string        `json:"note,omitempty"`
	Evidence []string      `json:"evidence"`
	Specs    []string      `json:"specs"`
	Faults   []FaultWindow `json:"faults,omitempty"`
	Plots    []Plot        `json:"plots,omitempty"`
	// DurationSecs is how long the requirement's specs ran.
	DurationSecs float64 `json:"duration_seconds"`
	// Samples counts what the specs judged on each path; Unprobed names the catalogue's paths
	// they could not probe, with the reason.
	Samples  map[string]int    `json:"samples,omitempty"`
	Unprobed map[string]string `json:"unprobed,omitempty"`
	// Basis says what a PASS rests on: measured on the runtime, read from the target file
	// (declaration), or both. Empty for any other result.
	Basis Basis `json:"basis,omitempty"`
	// Unjudged marks a NOT_SUPPORTED whose feature the target does declare, but without a field
	// the judgement needs (conformance/plan): the claim stands unverified, so a profile with such
	// a MUST is incomplete, never success.
	Unjudged bool `json:"unjudged,omitempty"`
}

// ProfileResult is success when every MUST passed (or is not supported: the target does not
// claim the feature), failure when a MUST did not pass, incomplete when none failed but a MUST of
// a declared feature could not be judged (a field its judgement needs was left out), and not_run
// when a focused run selected none of the profile's requirements. SHOULDs never turn a profile that passes into anything
// else: their counts stand beside it.
type ProfileResult struct {
	Name   string `json:"name"`
	Result string `json:"result"`
	Pass   int    `json:"pass"`
	Total  int    `json:"total"`
	// MustPass of MustTotal MUSTs passed, MustUnsupported were not claimed; the same for SHOULDs.
	MustPass          int `json:"must_pass"`
	MustTotal         int `json:"must_total"`
	MustUnsupported   int `json:"must_not_supported"`
	ShouldPass        int `json:"should_pass"`
	ShouldTotal       int `json:"should_total"`
	ShouldUnsupported int `json:"should_not_supported"`
}

// Counted says how the profile's requirements went, MUSTs and SHOULDs apart:
// "8/8 MUST, 0/1 SHOULD (1 not supported)".
func (p ProfileResult) Counted() string {
	part := func(pass, total, unsupported int, level string) string {
		s := fmt.Sprintf("%d/%d %s", pass, total, level)
		if unsupported > 0 {
			s += fmt.Sprintf(" (%d not supported)", unsupported)
		}
		return s
	}
	s := part(p.MustPass, p.MustTotal, p.MustUnsupported, "MUST")
	if p.ShouldTotal > 0 {
		s += ", " + part(p.ShouldPass, p.ShouldTotal, p.ShouldUnsupported, "SHOULD")
	}
	return s
}

// Target identifies what was certified.
type Target struct {
	Source string `json:"source"`
	Digest string `json:"digest"`
	// Endpoints are the HTTP base URLs of the routers the load was spread over round-robin, the
	// primary first; empty when no run reached the runtime.
	Endpoints []string `json:"endpoints,omitempty"`
}

// Spread says where the load went, for a report's header: the one router, or how many it was
// spread over and which; "" when no endpoint is recorded.
func (t Target) Spread() string {
	switch len(t.Endpoints) {
	case 0:
		return ""
	case 1:
		return "runtime reached at " + t.Endpoints[0]
	}
	return fmt.Sprintf("load spread round-robin over %d routers: %s", len(t.Endpoints), strings.Join(t.Endpoints, ", "))
}

// Report is the whole certification report.
type Report struct {
	SchemaVersion  string          `json:"schema_version"`
	Implementation string          `json:"implementation"`
	HarnessVersion string          `json:"harness_version"`
	Target         Target          `json:"target"`
	Seed           int64           `json:"seed"`
	Nonce          string          `json:"nonce,omitempty"`
	Started        time.Time       `json:"started"`
	DurationSecs   float64         `json:"duration_seconds"`
	Profiles       []ProfileResult `json:"profiles"`
	Requirements   []Requirement   `json:"requirements"`
	Counts         map[Result]int  `json:"counts"`
}

// MustFailures lists the MUST requirements that did not pass. NOT_SUPPORTED is not among them:
// the runtime did not claim the feature, and the report says so.
func (r *Report) MustFailures() []Requirement {
	var out []Requirement
	for _, q := range r.Requirements {
		if q.Level == catalog.Must && q.Result != Pass && q.Result != NotSupported {
			out = append(out, q)
		}
	}
	return out
}
