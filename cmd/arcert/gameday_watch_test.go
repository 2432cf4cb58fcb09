package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
)

// TestWatcherFollowsFaultsAndOutcomes: the status lines and the metrics say a fault is in force
// only when it went in, healed only when it came out, and count outcomes whatever the runtime
// wrote in its reason (a reason that is not UTF-8 must not crash the day).
func TestWatcherFollowsFaultsAndOutcomes(t *testing.T) {
	var out bytes.Buffer
	m := newGamedayMetrics()
	plan := scenario.Plan{Phases: []scenario.Phase{{Name: "p", Duration: time.Second}}, Abort: scenario.Abort{ErrorBudget: map[string]float64{"acme": 0.5}}}
	w := newWatcher(&out, false, plan, m)
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	pass, fail := scenario.Result{Verdict: scenario.Pass}, scenario.Result{Verdict: scenario.Fail, Message: "toxiproxy said no"}
	ok := &scenario.FaultRecord{Name: "cut", Kind: "down", Targets: []string{"region/eu-west"}}
	bad := &scenario.FaultRecord{Name: "slow", Kind: "latency"}
	w.observe(scenario.Event{Kind: scenario.EventPhase, At: at, Phase: "p"})
	w.observe(scenario.Event{Kind: scenario.EventInjected, At: at, Fault: ok, Result: &pass})
	w.observe(scenario.Event{Kind: scenario.EventInjected, At: at, Fault: bad, Result: &fail})
	e := ledger.Entry{Tenant: "acme", Class: "interactive", Outcome: outcome.Rejected, Reason: outcome.Reason("bad\xffreason")}
	w.observe(scenario.Event{Kind: scenario.EventEntry, At: at, Entry: &e})
	tally := scenario.NewTally(time.Second)
	tally.Add(e)
	w.observe(scenario.Event{Kind: scenario.EventTick, At: at.Add(time.Second), Tally: tally})
	if got := testutil.ToFloat64(m.faults.WithLabelValues("cut", "down")); got != 1 {
		t.Errorf("cut in force = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.faults); n != 1 {
		t.Errorf("%d fault series, want only the one that went in", n)
	}
	if n := testutil.CollectAndCount(m.requests); n != 1 {
		t.Errorf("%d request series, want 1", n)
	}
	healFailed := scenario.Result{Verdict: scenario.Fail, Message: "proxy gone"}
	w.observe(scenario.Event{Kind: scenario.EventHealed, At: at.Add(2 * time.Second), Fault: ok, Result: &healFailed})
	if got := testutil.ToFloat64(m.faults.WithLabelValues("cut", "down")); got != 1 {
		t.Errorf("after a failed heal, cut in force = %v, want still 1", got)
	}
	w.observe(scenario.Event{Kind: scenario.EventHealed, At: at.Add(3 * time.Second), Fault: ok, Result: &pass})
	if got := testutil.ToFloat64(m.faults.WithLabelValues("cut", "down")); got != 0 {
		t.Errorf("after the heal, cut in force = %v, want 0", got)
	}
	text := out.String()
	for _, want := range []string{"fault cut in force: down on region/eu-west", "fault slow could not be injected: toxiproxy said no",
		"faults: cut", "budget acme 0%", "fault cut heal failed: proxy gone", "fault cut healed"} {
		if !strings.Contains(text, want) {
			t.Errorf("the lines do not say %q:\n%s", want, text)
		}
	}
}
