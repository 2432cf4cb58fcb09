package scenario

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/ledger"
)

func TestAFailedExpectationBeatsAnInvalidOneAndResidueIsNeverHidden(t *testing.T) {
	pass := Result{Verdict: Pass}
	out := Outcome{SteadyBefore: SteadyRecord{Result: pass}, Residue: pass, RecoveryResult: pass,
		Expectations: []ExpectRecord{{Result: Result{Verdict: Invalid}}, {Result: Result{Verdict: Fail}}, {Result: Result{Verdict: Inconclusive}}}}
	if s := StatusOf(out); s != StatusDeviated {
		t.Fatalf("invalid, fail, inconclusive: %s, want deviated", s)
	}
	out.Expectations = out.Expectations[:1]
	if s := StatusOf(out); s != StatusInvalid || out.ResidueLeft() {
		t.Fatalf("invalid alone: %s, residue left %v", s, out.ResidueLeft())
	}
	out.Abort = &AbortRecord{Rule: RuleOperator}
	out.Residue = Result{Verdict: Fail, Message: "residue after rollback: heal cut failed"}
	if s := StatusOf(out); s != StatusAborted || !out.ResidueLeft() {
		t.Fatalf("aborted with residue: %s, residue left %v", s, out.ResidueLeft())
	}
}

func TestRecoveryCountsFromTheLastHealWhenRollbackHadNothingToDo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		slow     time.Duration // how long the runtime keeps failing after the heal
		min, max time.Duration
		ok       bool
	}{{1500 * time.Millisecond, 1500 * time.Millisecond, 2500 * time.Millisecond, false}, {0, 0, 1100 * time.Millisecond, true}} {
		// On the virtual clock a second's requests end in any order (they run at once, see play),
		// so the streak is found somewhere in the second after the heal: hence the wide bounds
		// and a declared recovery of 1.2 s.
		clock := NewVirtualClock(t0)
		f := newFake(clock)
		var healedAt atomic.Int64
		cut := f.downFault("cut", time.Second, time.Second)
		inject := cut.Custom
		cut.Custom = func(ctx context.Context) (func() error, error) {
			heal, err := inject(ctx)
			return func() error { healedAt.Store(clock.Now().UnixNano()); return heal() }, err
		}
		env := f.env()
		env.Send = func(ctx context.Context, req Request) ledger.Entry {
			e := f.send(ctx, req)
			// Stamp the schedule, not when the goroutine ran: the virtual clock runs ahead of them.
			e.Start, e.End = req.Scheduled, req.Scheduled.Add(2*time.Millisecond)
			if h := healedAt.Load(); h != 0 && req.Scheduled.Before(time.Unix(0, h).Add(tc.slow)) {
				e.Outcome, e.Reason, e.TTFT, e.ServedBy = outcome.Failed, outcome.ReasonDependencyUnavailable, 0, outcome.ServedBy{}
			}
			return e
		}
		p := Plan{Name: "recovery", Seed: 1, Steady: steadyOf("a"), Recovery: 1200 * time.Millisecond, Faults: []Fault{cut},
			Phases: []Phase{{Name: "all", Duration: 5 * time.Second, Load: []Load{{Tenant: "a", Rate: 20}}}}}
		out := Run(context.Background(), p, env)
		if len(out.Rollback) != 0 || out.Recovery < tc.min || out.Recovery > tc.max || out.RecoveryResult.OK() != tc.ok ||
			!strings.Contains(out.RecoveryResult.Message, "after the last fault was healed") {
			t.Fatalf("slow %s: rollback %+v, recovery %s, %+v", tc.slow, out.Rollback, out.Recovery, out.RecoveryResult)
		}
	}
}
