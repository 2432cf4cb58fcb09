package suites

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/aruntime/arcert/conformance/report"
)

// specWith is a spec report in state st carrying values as its report entries, in order.
func specWith(st types.SpecState, failure string, values ...any) types.SpecReport {
	s := types.SpecReport{State: st, Failure: types.Failure{Message: failure}}
	for _, v := range values {
		var e types.ReportEntry
		e.Name = "arcert.test"
		e.Value = types.WrapEntryValue(v)
		s.ReportEntries = append(s.ReportEntries, e)
	}
	return s
}

// A spec whose requests the harness held back is INVALID whatever it concluded, PASS, FAIL or
// its own INVALID, and the message keeps what it had concluded; without held requests nothing
// changes.
func TestASpecTheHarnessHeldIsInvalid(t *testing.T) {
	held := heldBack{N: 7, Bound: 16}
	cases := map[string]struct {
		rec    report.SpecRecord
		values []any
		want   string
	}{
		"passed":       {report.SpecRecord{State: report.SpecPassed}, []any{held}, "(the spec had passed)"},
		"failed":       {report.SpecRecord{State: report.SpecFailed, Message: "p99 81 ms over 50", Location: "x.go:1"}, []any{held}, "(the spec had failed: p99 81 ms over 50)"},
		"inconclusive": {report.SpecRecord{State: report.SpecPassed}, []any{verdict{report.Inconclusive, "no cache"}, held}, "(the spec had INCONCLUSIVE: no cache)"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rec := c.rec
			st := types.SpecStatePassed
			if rec.State == report.SpecFailed {
				st = types.SpecStateFailed
			}
			if err := readEntries(&rec, specWith(st, rec.Message, c.values...)); err != nil {
				t.Fatal(err)
			}
			if rec.State != report.SpecPassed || rec.Verdict != report.Invalid || rec.Location != "" ||
				!strings.HasPrefix(rec.Message, "7 requests waited in the harness for one of its 16 connections to a router") || !strings.Contains(rec.Message, c.want) {
				t.Errorf("state %s verdict %s location %q message %q; want INVALID naming the 7 held requests and %q", rec.State, rec.Verdict, rec.Location, rec.Message, c.want)
			}
		})
	}
	own := report.SpecRecord{State: report.SpecPassed}
	if err := readEntries(&own, specWith(types.SpecStatePassed, "", verdict{report.Invalid, held.String()}, held)); err != nil || own.Message != held.String() {
		t.Errorf("a spec whose own gate said the harness held 7: %q, %v; want its message unchanged", own.Message, err)
	}
	rec := report.SpecRecord{State: report.SpecPassed}
	if err := readEntries(&rec, specWith(types.SpecStatePassed, "", evidenceLine("nothing held"))); err != nil || rec.Verdict != "" {
		t.Errorf("a spec with no held requests: verdict %q, %v; want none", rec.Verdict, err)
	}
}
