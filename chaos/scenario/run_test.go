package scenario

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/chaos/ledger"
)

// faultRunPlan is what suites/faultrun.go's faultRun.run does, as a plan: lead, hold and tail
// phases of one load, one custom fault over the hold, entries kept, no abort rules.
func faultRunPlan(f *fakeRuntime, lead, hold, tail time.Duration, rate float64) Plan {
	load := []Load{{Tenant: "a", Rate: rate}}
	return Plan{Name: "fault run", Seed: 7, Steady: steadyOf("a"), KeepEntries: true, Recovery: time.Second,
		Phases: []Phase{
			{Name: "lead", Duration: lead, Load: load, Expect: []Expectation{{Name: "served", MinServed: 0.9}}},
			{Name: "hold", Duration: hold, Load: load, Expect: []Expectation{{Name: "refused in time", Allowed: []string{"completed", "failed/dependency_unavailable"}}}},
			{Name: "tail", Duration: tail, Load: load, Expect: []Expectation{{Name: "served again", MinServed: 0.9, Forbidden: []string{"us-east"}}}},
		},
		Faults: []Fault{f.downFault("cut", lead, hold)}}
}

func TestRunCompletesAndJudgesExpectations(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	var ev events
	env := f.env()
	env.Observe = ev.observe
	out := Run(context.Background(), faultRunPlan(f, 300*time.Millisecond, 600*time.Millisecond, 400*time.Millisecond, 100), env)
	if out.Status != StatusCompleted {
		t.Fatalf("status %s (%s); expectations %+v; recovery %+v; residue %+v", out.Status, out.Error, out.Expectations, out.RecoveryResult, out.Residue)
	}
	if len(out.Expectations) != 3 || len(out.Phases) != 3 || len(out.Faults) != 1 || out.Faults[0].End.IsZero() {
		t.Fatalf("expectations %d, phases %d, faults %+v", len(out.Expectations), len(out.Phases), out.Faults)
	}
	if f.heals.Load() != 1 || len(out.Rollback) != 0 || !out.Residue.OK() {
		t.Fatalf("the fault was healed %d times, rollback %+v, residue %+v", f.heals.Load(), out.Rollback, out.Residue)
	}
	// The hold phase saw the fault: most of its requests were refused.
	for _, ph := range out.Phases {
		if ph.Name == "hold" {
			c := ph.Counts[0]
			if failed := c.Outcomes["failed/dependency_unavailable"]; failed < c.Requests*8/10 {
				t.Fatalf("hold: %d of %d refused; want most", failed, c.Requests)
			}
		}
	}
	total := 0
	for _, g := range out.Totals {
		total += g.Requests
	}
	if len(out.Entries) != total || total < 80 {
		t.Fatalf("kept %d entries of %d requests (want all, at least 80)", len(out.Entries), total)
	}
	for i, e := range out.Entries {
		if e.Seq != i+1 {
			t.Fatalf("entry %d has Seq %d", i, e.Seq)
		}
	}
	if ev.count(EventEntry) != total || ev.count(EventPhase) != 3 || ev.count(EventInjected) != 1 || ev.count(EventHealed) != 1 || ev.count(EventTick) < 1 || ev.count(EventSteady) != 2 {
		t.Fatalf("events: entry %d phase %d injected %d healed %d tick %d steady %d", ev.count(EventEntry), ev.count(EventPhase),
			ev.count(EventInjected), ev.count(EventHealed), ev.count(EventTick), ev.count(EventSteady))
	}
}

func TestRunDeviatesWhenAnExpectationFails(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	p := faultRunPlan(f, 200*time.Millisecond, 400*time.Millisecond, 200*time.Millisecond, 100)
	p.Phases[1].Expect = []Expectation{{Name: "served through the cut", MinServed: 0.9}}
	out := Run(context.Background(), p, f.env())
	if out.Status != StatusDeviated {
		t.Fatalf("status %s, want deviated; expectations %+v", out.Status, out.Expectations)
	}
	r := out.Expectations[1].Result
	if r.Verdict != Fail || !strings.Contains(r.Message, "need 90.0%") {
		t.Fatalf("hold expectation: %+v", r)
	}
}

func TestErrorBudgetAbortsAndRollsBack(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	p := Plan{Name: "budget", Seed: 1, Steady: steadyOf("a"),
		Phases: []Phase{{Name: "all", Duration: 10 * time.Second, Load: []Load{{Tenant: "a", Rate: 100}}}},
		// The fault holds past the end: only rollback heals it.
		Faults: []Fault{f.downFault("cut", 100*time.Millisecond, time.Minute)},
		Abort:  Abort{ErrorBudget: map[string]float64{"a": 0.2}, MinSamples: 10}}
	start := time.Now()
	out := Run(context.Background(), p, f.env())
	if out.Status != StatusAborted || out.Abort == nil || out.Abort.Rule != RuleErrorBudget {
		t.Fatalf("status %s, abort %+v", out.Status, out.Abort)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the abort took %s; it is checked every second", took)
	}
	if f.heals.Load() != 1 || len(out.Rollback) != 1 || out.Rollback[0].Error != "" || !out.Residue.OK() || !out.RecoveryResult.OK() {
		t.Fatalf("heals %d, rollback %+v, residue %+v, recovery %+v", f.heals.Load(), out.Rollback, out.Residue, out.RecoveryResult)
	}
	if out.Faults[0].End.IsZero() || len(out.Expectations) != 0 {
		t.Fatalf("fault %+v, expectations %+v (an aborted run judges none)", out.Faults[0], out.Expectations)
	}
}

func TestPanicInSendStillRollsBack(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	f.panicOn = 30
	p := Plan{Name: "panic", Seed: 1, Steady: steadyOf("a"),
		Phases: []Phase{{Name: "all", Duration: 5 * time.Second, Load: []Load{{Tenant: "a", Rate: 100}}}},
		Faults: []Fault{f.downFault("cut", 0, time.Minute)}}
	out := Run(context.Background(), p, f.env())
	if out.Status != StatusErrored || out.Abort == nil || out.Abort.Rule != RulePanic || !strings.Contains(out.Error, "request #30") {
		t.Fatalf("status %s, abort %+v, error %q", out.Status, out.Abort, out.Error)
	}
	if f.heals.Load() != 1 || !out.Residue.OK() {
		t.Fatalf("heals %d, residue %+v", f.heals.Load(), out.Residue)
	}
}

func TestPanicInACustomFaultStillRollsBackTheOthers(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	p := Plan{Name: "panic in fault", Seed: 1, Steady: steadyOf("a"),
		Phases: []Phase{{Name: "all", Duration: 5 * time.Second, Load: []Load{{Tenant: "a", Rate: 50}}}},
		Faults: []Fault{f.downFault("cut", 0, time.Minute), {Name: "broken", At: 200 * time.Millisecond, For: time.Second,
			Custom: func(context.Context) (func() error, error) { panic("the fault broke") }}}}
	out := Run(context.Background(), p, f.env())
	if out.Status != StatusErrored || out.Abort == nil || !strings.Contains(out.Error, "the fault broke") {
		t.Fatalf("status %s, abort %+v, error %q", out.Status, out.Abort, out.Error)
	}
	if f.heals.Load() != 1 || len(out.Rollback) != 1 || !out.Residue.OK() {
		t.Fatalf("heals %d, rollback %+v, residue %+v", f.heals.Load(), out.Rollback, out.Residue)
	}
}

func TestCancelMidFaultRollsBack(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut := f.downFault("cut", 100*time.Millisecond, time.Minute)
	inject := cut.Custom
	cut.Custom = func(ctx context.Context) (func() error, error) {
		time.AfterFunc(200*time.Millisecond, cancel) // the operator's ^C, mid-fault
		return inject(ctx)
	}
	p := Plan{Name: "signal", Seed: 1, Steady: steadyOf("a"), Faults: []Fault{cut},
		Phases: []Phase{{Name: "all", Duration: 10 * time.Second, Load: []Load{{Tenant: "a", Rate: 100}}}}}
	out := Run(ctx, p, f.env())
	if out.Status != StatusAborted || out.Abort == nil || out.Abort.Rule != RuleSignal {
		t.Fatalf("status %s, abort %+v", out.Status, out.Abort)
	}
	if f.heals.Load() != 1 || !out.Residue.OK() || !out.SteadyAfter.Result.OK() {
		t.Fatalf("heals %d, residue %+v, steady after %+v", f.heals.Load(), out.Residue, out.SteadyAfter)
	}
}

func TestOperatorAbortAndDeadline(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	abort := make(chan string, 1)
	abort <- "enough"
	env := f.env()
	env.Abort = abort
	p := Plan{Name: "operator", Seed: 1, Phases: []Phase{{Name: "all", Duration: 10 * time.Second, Load: []Load{{Tenant: "a", Rate: 10}}}}}
	if out := Run(context.Background(), p, env); out.Status != StatusAborted || out.Abort.Rule != RuleOperator || !strings.Contains(out.Abort.Reason, "enough") {
		t.Fatalf("operator: status %s, abort %+v", out.Status, out.Abort)
	}
	p.Abort.Deadline = 300 * time.Millisecond
	if out := Run(context.Background(), p, f.env()); out.Status != StatusAborted || out.Abort.Rule != RuleDeadline {
		t.Fatalf("deadline: status %s, abort %+v", out.Status, out.Abort)
	}
}

func TestNoSteadyStateIsInvalidAndInjectsNothing(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	f.down.Store(true)
	p := faultRunPlan(f, 100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond, 10)
	p.Steady.Within = 300 * time.Millisecond
	injected := false
	p.Faults[0].Custom = func(context.Context) (func() error, error) { injected = true; return nil, nil }
	out := Run(context.Background(), p, f.env())
	if out.Status != StatusInvalid || out.SteadyBefore.Result.Verdict != Invalid || injected || f.sent.Load() == 0 {
		t.Fatalf("status %s, steady %+v, injected %v", out.Status, out.SteadyBefore.Result, injected)
	}
	if !strings.Contains(out.SteadyBefore.Result.Message, "a did not serve 3 probes in a row") || len(out.SteadyBefore.Tenants) != 1 {
		t.Fatalf("steady before: %+v", out.SteadyBefore)
	}
}

func TestInvalidPlanNamesEveryMistake(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	p := Plan{Name: "bad", Phases: []Phase{{Name: "x", Load: []Load{{Rate: -1}, {Tenant: "a", Rate: 1e9}}, Expect: []Expectation{{Allowed: []string{"served"}}}}},
		Faults: []Fault{{Name: "f", For: time.Second, Fault: faultKind("latency")}, {Name: "f", For: time.Second, Command: &Command{}}}}
	out := Run(context.Background(), p, f.env())
	if out.Status != StatusInvalid {
		t.Fatalf("status %s", out.Status)
	}
	for _, want := range []string{"phases[0].duration", "phases[0].load[0].tenant", "phases[0].load[0].rate: must be within 0 and 10000", "phases[0].load[1].rate: must be within 0 and 10000 requests per second, got 1e+09", `"served" is not an outcome class`,
		"faults[0].select.role", `fault "f" is named twice`, "faults[1].command.run"} {
		if !strings.Contains(out.Error, want) {
			t.Errorf("error %q does not name %s", out.Error, want)
		}
	}
	late := faultRunPlan(f, time.Second, time.Second, time.Second, 1)
	late.Faults[0].At = 3 * time.Second
	if err := late.Validate(); !errors.Is(err, ErrPlan) || !strings.Contains(err.Error(), "faults[0].at: 3s is past the end of the last phase") {
		t.Fatalf("a fault after the end: %v", err)
	}
	if out := Run(context.Background(), faultRunPlan(f, time.Second, time.Second, time.Second, 1), Env{}); out.Status != StatusErrored {
		t.Fatalf("no Send: status %s", out.Status)
	}
}

func TestSinkErrorErrorsTheRun(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	n := 0
	env := f.env()
	env.Sink = func(e ledger.Entry) error {
		if n++; n == 5 {
			return errors.New("disk full")
		}
		return nil
	}
	p := faultRunPlan(f, time.Second, time.Second, time.Second, 100)
	out := Run(context.Background(), p, env)
	if out.Status != StatusErrored || out.Abort == nil || out.Abort.Rule != RuleError || !strings.Contains(out.Error, "disk full") {
		t.Fatalf("status %s, abort %+v, error %q", out.Status, out.Abort, out.Error)
	}
}

func TestOutcomeClassesInExpectations(t *testing.T) {
	c := Counts{Requests: 20, Served: 18, Outcomes: map[string]int{"completed/": 17, "rerouted/": 1, "shed/overloaded": 2},
		ServedBy: map[string]int{"region=eu-west; provider=local": 17, "region=us-east": 1}}
	ctx := context.Background()
	if r := Judge(ctx, Expectation{MinServed: 0.9, Allowed: []string{"completed", "rerouted", "shed/overloaded"}}, c, nil, nil); r.Verdict != Pass {
		t.Fatalf("all allowed: %+v", r)
	}
	r := Judge(ctx, Expectation{Tenant: "a", Allowed: []string{"completed", "rerouted"}, Forbidden: []string{"us-east"}}, c, nil, nil)
	if r.Verdict != Fail || !strings.Contains(r.Message, "2 ended shed/overloaded, which is not allowed") || !strings.Contains(r.Message, "1 served by region=us-east, and us-east is forbidden") {
		t.Fatalf("shed not allowed and us-east forbidden: %+v", r)
	}
	if r := Judge(ctx, Expectation{MinSamples: 21}, c, nil, nil); r.Verdict != Invalid || r.Message != "only 20 requests of every tenant (need 21)" {
		t.Fatalf("too few samples: %+v", r)
	}
	if r := Judge(ctx, Expectation{}, Counts{Requests: 9}, nil, nil); r.Verdict != Invalid {
		t.Fatalf("default min samples is 10: %+v", r)
	}
	c.P90TTFT = 2 * time.Second
	if r := Judge(ctx, Expectation{MaxP90TTFT: time.Second}, c, nil, nil); r.Verdict != Fail || !strings.Contains(r.Message, "p90 TTFT 2s") {
		t.Fatalf("p90: %+v", r)
	}
}

func TestNothingLostReconcilesIndeterminateRequests(t *testing.T) {
	ctx := context.Background()
	c := Counts{Requests: 10, Served: 8, Outcomes: map[string]int{"completed/": 8, "indeterminate": 2}}
	indet := []ledger.Entry{{Seq: 3, RequestID: "r3", Indeterminate: true}, {Seq: 7, RequestID: "r7", Indeterminate: true}}
	e := Expectation{NothingLost: true}
	if r := Judge(ctx, e, c, indet, nil); r.Verdict != Inconclusive {
		t.Fatalf("no evidence: %+v", r)
	}
	records := func(_ context.Context, id string) (int, error) {
		if id == "r7" {
			return 0, nil
		}
		return 1, nil
	}
	if r := Judge(ctx, e, c, indet, records); r.Verdict != Fail || !strings.Contains(r.Message, "1 lost (#7)") {
		t.Fatalf("r7 lost: %+v", r)
	}
	found := func(context.Context, string) (int, error) { return 1, nil }
	if r := Judge(ctx, e, c, indet, found); r.Verdict != Pass {
		t.Fatalf("both recovered: %+v", r)
	}
}

func faultKind(k string) fault.Fault { return fault.Fault{Kind: fault.Kind(k)} }

func TestABrokenInvariantAborts(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	env := f.env()
	env.Send = func(ctx context.Context, req Request) ledger.Entry {
		e := f.send(ctx, req)
		if req.Seq == 5 {
			e.Outcome = "" // the runtime stated no outcome
		}
		return e
	}
	p := Plan{Name: "invariant", Seed: 1, Abort: Abort{OnInvariant: true},
		Phases: []Phase{{Name: "all", Duration: 10 * time.Second, Load: []Load{{Tenant: "a", Rate: 100}}}}}
	out := Run(context.Background(), p, env)
	if out.Status != StatusAborted || out.Abort == nil || out.Abort.Rule != RuleInvariant || out.Abort.Reason != "request #5 of a no outcome stated" {
		t.Fatalf("status %s, abort %+v", out.Status, out.Abort)
	}
	if out.End.Sub(out.Start) > 5*time.Second {
		t.Fatalf("the invariant abort took %s", out.End.Sub(out.Start))
	}
}

func TestCancelledBeforeTheSteadyStateIsAborted(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	f.down.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	p := faultRunPlan(f, time.Second, time.Second, time.Second, 10)
	out := Run(ctx, p, f.env())
	if out.Status != StatusAborted || out.Abort == nil || out.Abort.Rule != RuleSignal || len(out.Faults) != 0 {
		t.Fatalf("status %s, abort %+v, faults %+v", out.Status, out.Abort, out.Faults)
	}
}
