package scenario

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// rollbackTimeout bounds the whole rollback and residue check once the run's own context is gone
// (an operator's ^C): long enough for a part to restart, short enough that a hung undo is reported.
const rollbackTimeout = 5 * time.Minute

// finish is everything after the load, whatever ended it: stop the load and wait for it, roll
// back, check residue, check the steady state again, judge and set the status.
func (r *runner) finish(ctx context.Context) {
	out := r.out
	// The load and the faults' goroutines have returned when play returns; after a panic in play
	// they may not have: cancelling the load ends the requests, whose goroutines always return.
	r.stop.cancel()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()

	r.faults.markEnded(r.clock.Now())
	out.Rollback = r.reg.rollback(ctx, r.clock.Now)
	r.faults.rolledBack(out.Rollback)
	rolledBack := r.clock.Now()
	out.Residue = r.residue(ctx)
	res := out.Residue
	r.emit(Event{Kind: EventRolledBack, Result: &res, Message: res.Message})

	out.Abort, out.Error = r.stop.record()
	out.Faults = r.faults.records()
	out.Phases = r.phases
	for i := range out.Phases {
		out.Phases[i].Counts = groups(r.rec.phases[i])
	}
	out.Totals = groups(r.rec.total)
	if r.plan.KeepEntries {
		out.Entries = r.rec.kept()
	}
	if out.SteadyBefore.Result.OK() {
		after := r.steady(ctx, r.plan.Steady.Within+r.plan.Recovery, false)
		out.SteadyAfter = after.rec
		out.Recovery = after.reached.Sub(rolledBack)
		out.RecoveryResult = r.recovery(after)
		// When rollback had nothing left to undo, the last fault was put back during the play:
		// recovery counts from that heal, on the play's own requests, when they show it.
		if _, took, ok := r.watch.recovered(); ok && len(out.Rollback) == 0 && after.rec.Result.OK() {
			out.Recovery = took
			out.RecoveryResult = r.recoveryFromHeal(took)
		}
		if out.Abort == nil {
			out.Expectations = r.judge(ctx, rolledBack.Add(r.plan.Recovery))
		}
	}
	out.End = r.clock.Now()
	out.Status = r.status()
}

// residue asks the links and the nodes whether anything is left broken, and names every undo that
// failed in rollback.
func (r *runner) residue(ctx context.Context) Result {
	var left []string
	for _, what := range r.reg.left() {
		left = append(left, what+" failed")
	}
	if r.env.Links != nil {
		if err := r.env.Links.Residue(); err != nil {
			left = append(left, err.Error())
		}
	}
	if r.env.Nodes != nil {
		if err := r.env.Nodes.Residue(ctx); err != nil {
			left = append(left, err.Error())
		}
	}
	if len(left) > 0 {
		return Result{Verdict: Fail, Message: "residue after rollback: " + strings.Join(left, "; ")}
	}
	return Result{Verdict: Pass, Message: fmt.Sprintf("no residue: %d undo(s) ran, nothing left broken", len(r.out.Rollback))}
}

// recoveryFromHeal judges a recovery measured from the last heal of the play.
func (r *runner) recoveryFromHeal(took time.Duration) Result {
	rec := took.Round(time.Millisecond)
	if r.plan.Recovery > 0 && took > r.plan.Recovery {
		return Result{Verdict: Fail, Message: fmt.Sprintf("every tenant was served %d requests in a row %s after the last fault was healed, beyond the declared recovery of %s", r.plan.Steady.Probes, rec, r.plan.Recovery)}
	}
	return Result{Verdict: Pass, Message: fmt.Sprintf("every tenant was served %d requests in a row %s after the last fault was healed", r.plan.Steady.Probes, rec)}
}

// recovery judges the steady state after rollback against the declared recovery time.
func (r *runner) recovery(after steadyCheck) Result {
	rec := r.out.Recovery.Round(time.Millisecond)
	switch {
	case !after.rec.Result.OK():
		return Result{Verdict: Fail, Message: fmt.Sprintf("the steady state did not come back within %s of rollback: %s", r.plan.Steady.Within+r.plan.Recovery, after.rec.Result.Message)}
	case r.plan.Recovery > 0 && r.out.Recovery > r.plan.Recovery:
		return Result{Verdict: Fail, Message: fmt.Sprintf("the steady state came back %s after rollback, beyond the declared recovery of %s", rec, r.plan.Recovery)}
	}
	return Result{Verdict: Pass, Message: fmt.Sprintf("the steady state came back %s after rollback", rec)}
}

// status is how the run ended, as outcome.go defines the statuses, the first that applies:
// errored, aborted, invalid (no steady state before), deviated (the residue, the recovery or an
// expectation failed), invalid (an expectation that cannot be judged), completed. An errored or
// aborted run may still have left residue: Outcome.ResidueLeft says so.
func (r *runner) status() Status { return StatusOf(*r.out) }

// StatusOf is the status an outcome's records add up to; a game-day report that re-judged a
// stored ledger recomputes it with the new verdicts.
func StatusOf(out Outcome) Status {
	if out.Error != "" {
		return StatusErrored
	}
	if out.Abort != nil {
		return StatusAborted
	}
	if !out.SteadyBefore.Result.OK() {
		return StatusInvalid
	}
	if !out.Residue.OK() {
		return StatusDeviated // nothing says more about a run than what it left broken
	}
	// A failed expectation beats one that could not be judged: what was judged deviated, and an
	// invalid neighbour must not hide it.
	deviated, invalid := !out.RecoveryResult.OK(), false
	for _, e := range out.Expectations {
		switch e.Result.Verdict {
		case Invalid, Inconclusive:
			invalid = true
		case Fail:
			deviated = true
		}
	}
	switch {
	case deviated:
		return StatusDeviated
	case invalid:
		return StatusInvalid
	}
	return StatusCompleted
}
