package report

import (
	"strings"
	"testing"

	"github.com/aruntime/arcert/conformance/catalog"
)

// TestAPassMustRestOnSamples: a requirement whose specs all passed is PASS only when samples were
// judged on every path the catalogue lists (or the spec said why not) and enough of them.
func TestAPassMustRestOnSamples(t *testing.T) {
	q := catalog.Requirement{ID: "X-1", Paths: []string{"http", "grpc", "tenant"}, MinSamples: 4}
	cases := []struct {
		name     string
		samples  map[string]int
		unprobed map[string]string
		want     Result
		says     string
	}{
		{"nothing judged", nil, nil, Invalid, "no sample judged on 3 paths"},
		{"a path left out", map[string]int{"http": 3, "tenant:acme": 3}, nil, Invalid, "grpc"},
		{"a path explained", map[string]int{"http": 3, "tenant:acme": 3}, map[string]string{"grpc": "no gRPC endpoint"}, Pass, "not probed: grpc (no gRPC endpoint)"},
		{"too few", map[string]int{"http": 1, "grpc": 1, "tenant:acme": 1}, nil, Invalid, "only 3 samples judged"},
		{"an unlisted path", map[string]int{"http": 3, "grpc": 3, "tenant:a": 1, "batch": 2}, nil, Invalid, `path "batch"`},
		{"enough everywhere", map[string]int{"http": 3, "grpc": 3, "tenant:a": 1, "tenant:b": 1}, nil, Pass, "judged 8 samples on 4 paths (a request counts on each path it took): grpc 3, http 3, tenant:a 1, tenant:b 1"},
	}
	for _, c := range cases {
		got, msg := weigh(q, c.samples, c.unprobed)
		if got != c.want || !strings.Contains(msg, c.says) {
			t.Errorf("%s: %s %q, want %s containing %q", c.name, got, msg, c.want, c.says)
		}
	}
}

// TestNoPassFromNothing: specs that all passed but judged nothing make no PASS, whether the
// catalogue lists no path, or every path was explained away; the message names the harness.
func TestNoPassFromNothing(t *testing.T) {
	for _, c := range []struct {
		name     string
		q        catalog.Requirement
		unprobed map[string]string
	}{
		{"no path listed, none recorded", catalog.Requirement{ID: "Y-1"}, nil},
		{"every path explained away", catalog.Requirement{ID: "Y-2", Paths: []string{"class"}}, map[string]string{"class": "nothing was shed"}},
		{"a zero count", catalog.Requirement{ID: "Y-3", Paths: []string{"class"}}, map[string]string{"class": "nothing was shed"}},
	} {
		samples := map[string]int(nil)
		if c.q.ID == "Y-3" {
			samples = map[string]int{"class:interactive": 0}
		}
		got, msg := weigh(c.q, samples, c.unprobed)
		if got != Invalid || !strings.Contains(msg, "harness defect") {
			t.Errorf("%s: %s %q, want INVALID naming a harness defect", c.name, got, msg)
		}
	}
	// Through Compute: a spec that passed and recorded nothing leaves its requirement INVALID.
	c := catalog.MustLoad()
	rep := Compute(Inputs{Catalog: c, Profiles: []string{"core"}, Focus: []string{"ADM-1"}, Declares: func(string) bool { return true },
		Specs: []SpecRecord{{Name: "passes without looking", Requirements: []string{"ADM-1"}, State: SpecPassed}}})
	if q := rep.Requirements[0]; q.Result != Invalid || q.Basis != "" {
		t.Errorf("ADM-1 passed with no sample: %s (basis %q): %s", q.Result, q.Basis, q.Message)
	}
}

// TestBasisOfAPass: a PASS says whether it was measured, read from the target file, or both.
func TestBasisOfAPass(t *testing.T) {
	q := catalog.Requirement{ID: "Z-1", Paths: []string{DeclarationPath, "worker"}, MinSamples: 2}
	for _, c := range []struct {
		samples map[string]int
		want    Basis
		label   string
	}{
		{map[string]int{DeclarationPath: 4, "worker:w1": 1}, MeasuredAndDeclared, "partly checked from the declaration"},
		{map[string]int{DeclarationPath: 4}, Declared, "checked from the declaration only"},
		{map[string]int{"worker:w1": 2}, Measured, ""},
	} {
		unprobed := map[string]string{}
		if c.samples["worker:w1"] == 0 {
			unprobed["worker"] = "the contract has no way to report it"
		}
		if c.samples[DeclarationPath] == 0 {
			unprobed[DeclarationPath] = "the record states nothing of it"
		}
		rep := Compute(Inputs{Catalog: &catalog.Catalog{Profiles: []catalog.Profile{{Name: "p", Status: "implemented"}},
			Requirements: []catalog.Requirement{{ID: q.ID, Level: catalog.Must, Profile: "p", Feature: "f", Paths: q.Paths, MinSamples: q.MinSamples}}},
			Profiles: []string{"p"}, Declares: func(string) bool { return true },
			Specs: []SpecRecord{{Name: "s", Requirements: []string{q.ID}, State: SpecPassed, Samples: c.samples, Unprobed: unprobed}}})
		got := rep.Requirements[0]
		if got.Result != Pass || got.Basis != c.want || !strings.Contains(got.BasisLabel(), c.label) || (c.label == "") != (got.BasisLabel() == "") {
			t.Errorf("%v: %s basis %q label %q, want PASS %q %q", c.samples, got.Result, got.Basis, got.BasisLabel(), c.want, c.label)
		}
	}
}

// TestSamplesForOneRequirement: samples keyed to one requirement count for it alone.
func TestSamplesForOneRequirement(t *testing.T) {
	from := map[string]int{"http": 2, "A-1" + ForRequirement + "grpc": 3}
	if got := mergeCounts("A-1", nil, from); got["http"] != 2 || got["grpc"] != 3 {
		t.Errorf("A-1: %v", got)
	}
	if got := mergeCounts("B-1", nil, from); got["http"] != 2 || got["grpc"] != 0 {
		t.Errorf("B-1: %v", got)
	}
}

// TestSkippedSpecSaysWhy: a spec skipped because the setup it shares failed leaves its
// requirement NOT_RUN with Ginkgo's reason, not "never selected".
func TestSkippedSpecSaysWhy(t *testing.T) {
	rep := Compute(Inputs{Catalog: catalog.MustLoad(), Profiles: []string{"core"}, Focus: []string{"QUO-3"}, Declares: func(string) bool { return true },
		Specs: []SpecRecord{{Name: "quota refusals", Requirements: []string{"QUO-3"}, State: SpecSkipped, Message: "an earlier spec in an ordered container failed"}}})
	if q := rep.Requirements[0]; q.Result != NotRun || !strings.Contains(q.Message, "did not run: an earlier spec") {
		t.Errorf("QUO-3: %s %q", q.Result, q.Message)
	}
}
