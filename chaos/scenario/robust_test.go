package scenario

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
)

// onePhase is a plan of one phase of load on tenant a with the given faults.
func onePhase(name string, d time.Duration, faults ...Fault) Plan {
	return Plan{Name: name, Seed: 1, Steady: steadyOf("a"), Faults: faults,
		Phases: []Phase{{Name: "all", Duration: d, Load: []Load{{Tenant: "a", Rate: 50}}}}}
}

func TestAPanickingObserverErrorsTheRunAndStillRollsBack(t *testing.T) {
	t.Parallel()
	for _, on := range []EventKind{EventInjected, EventEntry, EventAbort, ""} {
		f := newFake(nil)
		env := f.env()
		var calls atomic.Int32
		env.Observe = func(e Event) {
			calls.Add(1)
			if on == "" || e.Kind == on {
				panic("the dashboard broke")
			}
		}
		out := Run(context.Background(), onePhase("observer", 2*time.Second, f.downFault("cut", 0, time.Minute)), env)
		if on == EventAbort {
			// The observer panics only on the abort event: nothing aborted, nothing panicked.
			if out.Status != StatusCompleted {
				t.Fatalf("panic on abort only: status %s (%s)", out.Status, out.Error)
			}
			continue
		}
		if out.Status != StatusErrored || out.Abort == nil || out.Abort.Rule != RuleError || !strings.Contains(out.Error, "the observer panicked") {
			t.Fatalf("panic on %q: status %s, abort %+v, error %q", on, out.Status, out.Abort, out.Error)
		}
		// Whatever was injected was healed (a panic on the first event stops the run before any).
		if int(f.heals.Load()) != len(out.Faults) || (on != "" && f.heals.Load() != 1) || !out.Residue.OK() {
			t.Fatalf("panic on %q: heals %d, faults %d, residue %+v", on, f.heals.Load(), len(out.Faults), out.Residue)
		}
		if on == "" && calls.Load() != 1 {
			t.Fatalf("the broken observer was called %d times; want once", calls.Load())
		}
	}
}

func TestAPanickingSinkErrorsTheRunOnceAndStillRollsBack(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	env := f.env()
	var calls atomic.Int32
	env.Sink = func(ledger.Entry) error {
		if calls.Add(1) == 3 {
			panic("disk gone")
		}
		return nil
	}
	out := Run(context.Background(), onePhase("sink", 5*time.Second, f.downFault("cut", 0, time.Minute)), env)
	if out.Status != StatusErrored || out.Abort == nil || out.Abort.Rule != RuleError || !strings.Contains(out.Error, "panicked: disk gone") {
		t.Fatalf("status %s, abort %+v, error %q", out.Status, out.Abort, out.Error)
	}
	if f.heals.Load() != 1 || !out.Residue.OK() || calls.Load() != 3 {
		t.Fatalf("heals %d, residue %+v, sink called %d times (want 3: none after it broke)", f.heals.Load(), out.Residue, calls.Load())
	}
}

func TestAHungHealDoesNotHoldTheRunOrTheLaterFaults(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stuck := Fault{Name: "stuck", At: 0, For: 200 * time.Millisecond, Custom: func(context.Context) (func() error, error) {
		return func() error { <-release; return nil }, nil // a heal that ignores every deadline
	}}
	env := f.env()
	env.FaultTimeout = 100 * time.Millisecond
	var healed []Event
	env.Observe = func(e Event) {
		if e.Kind == EventHealed {
			healed = append(healed, e)
		}
	}
	start := time.Now()
	out := Run(context.Background(), onePhase("hung heal", 1500*time.Millisecond, stuck, f.downFault("later", 400*time.Millisecond, 300*time.Millisecond)), env)
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the run took %s", took)
	}
	if f.heals.Load() != 1 || len(out.Faults) != 2 || out.Faults[1].Error != "" {
		t.Fatalf("the later fault: heals %d, faults %+v", f.heals.Load(), out.Faults)
	}
	if out.Status != StatusDeviated || out.Residue.OK() || !strings.Contains(out.Residue.Message, "heal stuck failed") ||
		!strings.Contains(out.Faults[0].Error, "did not return within 100ms") {
		t.Fatalf("status %s, residue %+v, faults %+v, rollback %+v", out.Status, out.Residue, out.Faults, out.Rollback)
	}
	// The watcher was told the heal failed, in play and again in rollback.
	if len(healed) < 2 || healed[0].Fault.Name != "stuck" || healed[0].Result == nil || healed[0].Result.Verdict != Fail {
		t.Fatalf("healed events %+v", healed)
	}
}

func TestAHungInjectionErrorsTheRunAndIsRolledBackLater(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	hang := Fault{Name: "hang", At: 0, For: time.Second, Custom: func(context.Context) (func() error, error) {
		time.Sleep(time.Second) // ignores its context
		return nil, nil
	}}
	env := f.env()
	env.FaultTimeout = 100 * time.Millisecond
	var injected []Event
	env.Observe = func(e Event) {
		if e.Kind == EventInjected {
			injected = append(injected, e)
		}
	}
	start := time.Now()
	out := Run(context.Background(), onePhase("hung inject", 5*time.Second, hang), env)
	if out.Status != StatusErrored || !strings.Contains(out.Error, "injecting fault hang did not return within 100ms") || time.Since(start) > 4*time.Second {
		t.Fatalf("status %s, error %q after %s", out.Status, out.Error, time.Since(start))
	}
	if len(injected) != 1 || injected[0].Result == nil || injected[0].Result.Verdict != Fail {
		t.Fatalf("injected events %+v", injected)
	}
}

func TestEventsSayWhetherFaultsWentInAndCameOut(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	var ev events
	env := f.env()
	env.Observe = ev.observe
	failing := Fault{Name: "failing heal", At: 0, For: 200 * time.Millisecond, Custom: func(context.Context) (func() error, error) {
		return func() error { return errors.New("proxy gone") }, nil
	}}
	Run(context.Background(), onePhase("events", time.Second, failing, f.downFault("held", 100*time.Millisecond, time.Minute)), env)
	var heals []string
	for _, e := range ev.all {
		switch e.Kind {
		case EventInjected:
			if e.Result == nil || e.Result.Verdict != Pass {
				t.Errorf("injected %s: result %+v", e.Fault.Name, e.Result)
			}
		case EventHealed:
			if e.Result == nil {
				t.Fatalf("healed %s without a result", e.Fault.Name)
			}
			heals = append(heals, e.Fault.Name+" "+string(e.Result.Verdict))
		}
	}
	// The failing heal fails in play and in rollback; the held fault is healed at the end of
	// the phases.
	want := "failing heal FAIL,held PASS,failing heal FAIL"
	if strings.Join(heals, ",") != want {
		t.Fatalf("heals %v, want %s", heals, want)
	}
	// An aborted run's faults are healed in rollback, and the watcher hears it.
	f2 := newFake(nil)
	var ev2 events
	env2 := f2.env()
	env2.Observe = ev2.observe
	p := onePhase("abort", 10*time.Second, f2.downFault("cut", 0, time.Minute))
	p.Abort.Deadline = 300 * time.Millisecond
	if out := Run(context.Background(), p, env2); out.Status != StatusAborted || ev2.count(EventHealed) != 1 {
		t.Fatalf("aborted: status %s, healed events %d", out.Status, ev2.count(EventHealed))
	}
}

func TestAQueuedInjectionIsSkippedOnceTheRunStopped(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	var second atomic.Bool
	first := Fault{Name: "first", At: 0, For: time.Second, Custom: func(context.Context) (func() error, error) {
		time.Sleep(50 * time.Millisecond)
		return nil, errors.New("no permission")
	}}
	next := Fault{Name: "second", At: 0, For: time.Second, Custom: func(context.Context) (func() error, error) {
		second.Store(true)
		return nil, nil
	}}
	out := Run(context.Background(), onePhase("queued", 2*time.Second, first, next), f.env())
	if out.Status != StatusErrored || second.Load() {
		t.Fatalf("status %s, the second fault injected after the abort: %v", out.Status, second.Load())
	}
}
