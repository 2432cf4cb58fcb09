package suites

import (
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/conformance/report"
)

// entryHeld carries how many of a spec's requests waited in the harness for a connection.
const entryHeld = "arcert.held"

// heldBack is a spec's count of requests the harness itself held back: begun while their router
// already had the HTTP driver's bound of connections in use (driver.Client.ConnectionWaits).
// Their latency and, where their context ended first, their outcome were the harness's, so
// whatever the spec concluded, PASS or FAIL, it is INVALID (readEntries).
type heldBack struct{ N, Bound int64 }

func (h heldBack) String() string { return harnessHeld(h.N, h.Bound) }

// waitsAtStart is ConnectionWaits when the running spec began; specs run one at a time.
var waitsAtStart int64

// watchHeld watches every spec, not only the load runs that already gate on it (the overload run,
// the refusal flood): any spec that sends more at once than the harness has connections for would
// otherwise be judged on load it never delivered, or on the harness's own waiting. Run registers
// it after the progress preview, which keeps only the top-level containers of the suite (a
// top-level BeforeEach declared with var _ = would be lost in every run but a --verbose one).
func watchHeld() {
	ginkgo.BeforeEach(func() {
		if env != nil && env.HTTP != nil {
			waitsAtStart = env.HTTP.ConnectionWaits()
		}
	})
	ginkgo.AfterEach(func() {
		if env == nil || env.HTTP == nil {
			return
		}
		if n := env.HTTP.ConnectionWaits() - waitsAtStart; n > 0 {
			ginkgo.AddReportEntry(entryHeld, heldBack{N: n, Bound: env.HTTP.ConnectionBound()}, ginkgo.ReportEntryVisibilityAlways)
		}
	})
}

// overrideHeld makes rec INVALID when the harness held back some of its requests, keeping what
// the spec had concluded in the message.
func overrideHeld(rec *report.SpecRecord, h heldBack) {
	if rec.State == report.SpecPassed && rec.Verdict == report.Invalid && strings.HasPrefix(rec.Message, fmt.Sprintf("%d requests waited in the harness", h.N)) {
		return // the spec's own gate said so already (the overload run, the refusal flood)
	}
	was := string(rec.State)
	switch {
	case rec.State == report.SpecFailed:
		was = "failed: " + rec.Message
	case rec.Verdict != "":
		was = string(rec.Verdict) + ": " + rec.Message
	}
	rec.State, rec.Verdict, rec.Location = report.SpecPassed, report.Invalid, ""
	rec.Message = fmt.Sprintf("%s (the spec had %s)", h, was)
}
