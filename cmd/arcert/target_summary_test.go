package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aruntime/arcert/conformance/report"
)

// The console shows a failed requirement as its note and its evidence line, never the dump.
func TestSummaryShowsNoteAndEvidenceOfAFailure(t *testing.T) {
	rep := &report.Report{HarnessVersion: "v", Implementation: "x", Requirements: []report.Requirement{
		{ID: "OUT-1", Level: "MUST", Result: report.Fail, Title: "Every response states exactly one outcome",
			Message: "Unexpected error:\n    <*net.OpError | 0xc0>: \n    dial tcp: refused\n    {Op: \"dial\"}\noccurred",
			Note:    "the check at suites/outcomes.go:40 failed: dial tcp: refused", Evidence: []string{"sent 3 requests", "0 of 3 answered"}},
		{ID: "VER-1", Level: "MUST", Result: report.NotSupported, Title: "t", Note: "feature versions is not declared", Evidence: []string{"unused"}},
	}}
	var b bytes.Buffer
	printSummary(&b, rep, "out")
	out := b.String()
	for _, want := range []string{"failed: dial tcp: refused\n", "evidence: 0 of 3 answered\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	for _, never := range []string{"*net.OpError", "0xc0", "Unexpected error", "evidence: unused"} {
		if strings.Contains(out, never) {
			t.Errorf("summary shows %q:\n%s", never, out)
		}
	}
}
