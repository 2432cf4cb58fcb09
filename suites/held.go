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
// whatever the spec concluded, PASS or FAIL, it is INVALID (readEntries); unless the target
// declares so few requests in flight that only a runtime breaking its declaration could fill the
// harness's connections (watchHeld).
type heldBack struct{ N, Bound int64 }

func (h heldBack) String() string { return harnessHeld(h.N, h.Bound) }

// waitsAtStart is ConnectionWaits when the running spec began; specs run one at a time.
// orderedWaits adds up, per top-level ordered container, the waits of its specs so far: their
// shared BeforeAll runs before the first spec's AfterEach and after its BeforeEach, so its load
// is counted in the first spec, and every later spec that judges the same run is held too.
var (
	waitsAtStart int64
	orderedWaits = map[string]int64{}
)

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
		n := env.HTTP.ConnectionWaits() - waitsAtStart
		if s := ginkgo.CurrentSpecReport(); s.IsInOrderedContainer && len(s.ContainerHierarchyLocations) > 0 {
			key := s.ContainerHierarchyLocations[0].String()
			orderedWaits[key] += n
			n = orderedWaits[key]
		}
		switch held, why := judgeHeld(n, env.HTTP.ConnectionBound(), declaredInFlight()); {
		case held != nil:
			ginkgo.AddReportEntry(entryHeld, *held, ginkgo.ReportEntryVisibilityAlways)
		case why != "":
			evidence("%s", why)
		}
	})
}

// judgeHeld decides what n requests that waited for one of the harness's bound connections to a
// router make of a spec, for a target declaring at most declared requests in flight: nothing when
// none waited; the runtime's doing, said in evidence, when a conformant runtime could never hold
// that many at once (under half the bound: it queued or stalled past its declaration, and the
// spec's verdict stands); else the harness's, and the spec is INVALID.
func judgeHeld(n, bound, declared int64) (*heldBack, string) {
	switch {
	case n == 0:
		return nil, ""
	case 2*declared < bound:
		return nil, fmt.Sprintf("%d requests waited for one of the harness's %d connections to a router, though the target declares at most %d requests in flight: the runtime held more than it declares", n, bound, declared)
	}
	return &heldBack{N: n, Bound: bound}, ""
}

// declaredInFlight is the most requests the target says its runtime holds at once, over all its
// routers: its concurrency and every class's queue bound.
func declaredInFlight() int64 {
	n := int64(env.Target.Capacity.Concurrency)
	for _, k := range env.Target.TrafficClasses {
		n += int64(k.QueueBound)
	}
	return n
}

// overrideHeld makes rec INVALID when the harness held back some of its requests, keeping what
// the spec had concluded in the message.
func overrideHeld(rec *report.SpecRecord, h heldBack) {
	if rec.State == report.SpecPassed && rec.Verdict == report.Invalid && strings.Contains(rec.Message, "requests waited in the harness for one of its") {
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
