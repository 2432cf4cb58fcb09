package suites

import (
	"testing"
	"time"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/target"
)

// stepEntries are completed answers of worker w, one every 1/rate s from from to to (seconds
// since origin), each scheduled at origin.
func stepEntries(origin time.Time, w string, rate, from, to float64) []chaosledger.Entry {
	var out []chaosledger.Entry
	for i := 0; from+float64(i)/rate < to; i++ {
		end := origin.Add(time.Duration((from + float64(i)/rate) * float64(time.Second)))
		out = append(out, chaosledger.Entry{Scheduled: origin, Start: end.Add(-100 * time.Millisecond), End: end,
			Outcome: outcome.Completed, ServedBy: outcome.ServedBy{Worker: w}})
	}
	return out
}

// TestCrossingNeedsTwoWindowsAndANewWorker: one lucky second is not added capacity; a rate that
// stays up is, read to a quarter second; and when workers are named, the capacity counts only
// once a worker that was not serving at the step has served.
func TestCrossingNeedsTwoWindowsAndANewWorker(t *testing.T) {
	saved := env
	defer func() { env = saved }()
	env = &Env{Target: &target.Target{Dependencies: []target.Dependency{{Link: link.Link{Role: link.RoleProvider, Name: "hosted"}}}}}
	origin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	length := 12 * time.Second
	rest := stepEntries(origin, "w1", 10, 0.05, 12)
	burst := stepEntries(origin, "w1", 20, 2.05, 2.5) // w1 alone triples for half a second
	added := stepEntries(origin, "w2", 10, 5.05, 12)
	entries := append(append(append([]chaosledger.Entry{}, rest...), burst...), added...)

	if got := crossing(entries, length, 15, scaledOK, nil); got != 5.75 {
		t.Errorf("by rate alone the first added capacity is at %.2f s, want 5.75 (the lone burst at 2-2.5 s is not capacity)", got)
	}
	fresh, ids := freshBy(entries, map[string]bool{"w1": true}, scaledOK)
	if len(ids) != 1 || ids[0] != "w2" {
		t.Fatalf("new workers %v, want [w2]", ids)
	}
	if got := crossing(entries, length, 15, scaledOK, fresh); got != 5.75 {
		t.Errorf("with w2 named the first added capacity is at %.2f s, want 5.75", got)
	}
	// The same rate from w1 alone is not corroborated by a new worker: no added capacity.
	fresh, _ = freshBy(append(append([]chaosledger.Entry{}, rest...), stepEntries(origin, "w1", 10, 5.05, 12)...), map[string]bool{"w1": true}, scaledOK)
	if got := crossing(append(append([]chaosledger.Entry{}, rest...), stepEntries(origin, "w1", 10, 5.05, 12)...), length, 15, scaledOK, fresh); got != -1 {
		t.Errorf("a rise with no new worker counted as added capacity at %.2f s", got)
	}
	// An answer that names no worker: judged by the rate alone.
	unnamed := append([]chaosledger.Entry{}, entries...)
	unnamed[0].ServedBy.Worker = ""
	if f, _ := freshBy(unnamed, nil, scaledOK); f != nil {
		t.Error("freshBy gave a test though an answer names no worker")
	}
	// Rerouted and provider answers are no capacity.
	if scaledOK(chaosledger.Entry{Outcome: outcome.Rerouted}) || scaledOK(chaosledger.Entry{Outcome: outcome.Degraded}) ||
		scaledOK(chaosledger.Entry{Outcome: outcome.Completed, ServedBy: outcome.ServedBy{Provider: "hosted"}}) {
		t.Error("a rerouted, degraded or hosted provider's answer counted as the model's capacity")
	}
	// Another model's worker answering the overflow is no capacity of the declared model.
	if f, _ := freshBy(stepEntries(origin, "other-model-worker", 10, 1, 3), map[string]bool{"w1": true}, servedByModel(map[string]bool{"w1": true})); f != nil && f(origin.Add(5*time.Second)) {
		t.Error("a worker of another model counted as a new worker of the declared model")
	}
	if !scaledOK(chaosledger.Entry{Outcome: outcome.Completed, ServedBy: outcome.ServedBy{Provider: "aruntime", Worker: "w1"}}) {
		t.Error("a completed answer of the runtime's own worker did not count")
	}
}

func TestScaleMessageShowsTheStepBySecondAndWhenNewWorkersServed(t *testing.T) {
	s := scaleRun{offered: []float64{30, 30}, served: []float64{10, 21}, shed: []float64{20, 9}}
	if got, want := s.bySecond(), "second by second, served by its workers [10 21], shed [20 9]"; got != want {
		t.Errorf("bySecond = %q, want %q", got, want)
	}
	origin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	entry := func(worker string, end time.Duration) chaosledger.Entry {
		e := chaosledger.Entry{Scheduled: origin, End: origin.Add(end), Status: 200}
		e.ServedBy.Worker = worker
		return e
	}
	entries := []chaosledger.Entry{entry("w1", 100*time.Millisecond), entry("w2", 3*time.Second), entry("w2", 2900*time.Millisecond), entry("w3", 5500*time.Millisecond)}
	all := func(chaosledger.Entry) bool { return true }
	if got, want := firstServedAt(entries, []string{"w2", "w3"}, all), "w2 at 2.90 s, w3 at 5.50 s"; got != want {
		t.Errorf("firstServedAt = %q, want %q", got, want)
	}
}
