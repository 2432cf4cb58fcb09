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
	skipped := report.SpecRecord{State: report.SpecSkipped, Message: "not selected"}
	if err := readEntries(&skipped, specWith(types.SpecStateSkipped, "not selected", held)); err != nil || skipped.Verdict != "" {
		t.Errorf("a skipped spec: verdict %q, %v; want none", skipped.Verdict, err)
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

// Waits the harness caused make a spec INVALID; waits only a runtime holding more than it declares
// could cause keep the spec's verdict and say so; no waits, nothing.
func TestJudgeHeld(t *testing.T) {
	if h, why := judgeHeld(0, 4096, 336); h != nil || why != "" {
		t.Errorf("no waits: %v %q", h, why)
	}
	if h, why := judgeHeld(7, 16, 336); h == nil || h.N != 7 || h.Bound != 16 || why != "" {
		t.Errorf("7 waits through 16 connections for a runtime declaring 336 in flight: %v %q; want held", h, why)
	}
	if h, why := judgeHeld(7, 4096, 336); h != nil || !strings.Contains(why, "the target declares at most 336 requests in flight: the runtime held more than it declares") {
		t.Errorf("7 waits through 4096 connections for a runtime declaring 336: %v %q; want the runtime's doing", h, why)
	}
	if h, _ := judgeHeld(7, 4096, 2048); h == nil {
		t.Error("a runtime declaring 2048 in flight may fill 4096 connections with refusals in flight: want held")
	}
}

// The progress line says INVALID for a held spec, whatever Ginkgo's state.
func TestProgressSaysAHeldSpecIsInvalid(t *testing.T) {
	s := specWith(types.SpecStateFailed, "p99 over", heldBack{N: 3, Bound: 16})
	if got, why := specResult(s); got != string(report.Invalid) || !strings.HasPrefix(why, "3 requests waited in the harness") {
		t.Errorf("specResult = %s %q; want INVALID naming the 3 held requests", got, why)
	}
}
