package scenario

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
)

// defaultGrace is how far past its deadline a request may end before it counts as hung when the
// environment declares no Grace: network and scheduling slack on a shared machine.
const defaultGrace = time.Second

// farFuture stands for "no deadline".
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// runner is one run in progress.
type runner struct {
	plan   Plan
	env    Env
	clock  Clock
	grace  time.Duration
	emitMu sync.Mutex
	// observerBroken is set once Observe panicked: later events are dropped, so the panic is
	// reported once and cannot recur in rollback.
	observerBroken bool
	stop           *stopper
	reg            *registry
	faults         *faults
	rec            *recorder
	watch          *healWatch
	loadCtx        context.Context
	// deadline is when the Deadline abort rule fires (farFuture when none).
	deadline time.Time
	seq      int
	phases   []PhaseRecord
	out      *Outcome
}

// Run plays plan against env and returns what happened and what it concluded. It never panics
// and always rolls back: whatever happens after validation (success, a failed expectation, an
// abort rule, a panic in Send or in a fault, ctx cancelled), every fault still in force is healed,
// the residue checked and the steady state checked again before Run returns. The Outcome's Status
// says how the run ended and Error carries the harness error of an errored or invalid plan; there
// is no separate error return, so a caller cannot judge a run and forget its rollback.
//
// Expectations are judged only on a run that played to the end: an aborted or errored run's
// phases are cut short, and its Outcome says why (Abort, Error) instead.
//
// Cancelling ctx aborts the run (rule "signal"); rollback and the recovery check still run, on a
// context that keeps ctx's values but not its cancellation.
func Run(ctx context.Context, plan Plan, env Env) (out Outcome) {
	clock := env.Clock
	if clock == nil {
		clock = realClock{}
	}
	out = Outcome{Plan: plan.Name, Seed: plan.Seed, Start: clock.Now()}
	if env.Send == nil {
		out.Status, out.Error, out.End = StatusErrored, "scenario: the environment has no Send", clock.Now()
		return out
	}
	if err := plan.Validate(); err != nil {
		out.Status, out.Error, out.End = StatusInvalid, err.Error(), clock.Now()
		return out
	}
	r := &runner{plan: plan, env: env, clock: clock, grace: cmp.Or(env.Grace, defaultGrace), reg: &registry{timeout: env.FaultTimeout}, out: &out,
		deadline: farFuture}
	if plan.Abort.Deadline > 0 {
		r.deadline = out.Start.Add(plan.Abort.Deadline)
	}
	loadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.loadCtx = loadCtx
	r.stop = newStopper(cancel, r.emit)
	r.faults = newFaults(plan, env, r.reg, clock.Now, r.emit)
	r.rec = newRecorder(plan, env, r.grace, r.stop, clock.Now, r.emit)
	r.watch = newHealWatch(plan.Steady)
	r.rec.watch = r.watch
	r.faults.watch = r.watch
	defer func() {
		if p := recover(); p != nil {
			// fire emits an event; whatever it does, finish (rollback) must still run.
			func() {
				defer func() { _ = recover() }()
				r.stop.fire(clock.Now(), RulePanic, "the run panicked: "+panicText(p))
			}()
		}
		r.finish(ctx)
	}()
	steady := r.steady(ctx, plan.Steady.Within, true)
	out.SteadyBefore = steady.rec
	if !steady.rec.Result.OK() {
		if ctx.Err() != nil {
			r.stop.fire(clock.Now(), RuleSignal, "the run's context ended before the steady state: "+context.Cause(ctx).Error())
		}
		return out
	}
	r.play(ctx)
	return out
}

// emit hands e to the environment's observer, one event at a time. A panicking observer must not
// take the process (and the faults still in force) down with it: the first panic errors the run
// (rule error) and the observer gets no more events.
func (r *runner) emit(e Event) {
	if r.env.Observe == nil {
		return
	}
	if e.At.IsZero() {
		e.At = r.clock.Now()
	}
	r.emitMu.Lock()
	if r.observerBroken {
		r.emitMu.Unlock()
		return
	}
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		r.env.Observe(e)
	}()
	if panicked != nil {
		r.observerBroken = true
	}
	r.emitMu.Unlock()
	if panicked != nil {
		r.stop.fire(r.clock.Now(), RuleError, fmt.Sprintf("the observer panicked on a %s event: %s", e.Kind, panicText(panicked)))
	}
}

// phaseStarted records and announces the start of phase i.
func (r *runner) phaseStarted(i int, at time.Time) {
	r.phases = append(r.phases, PhaseRecord{Name: r.plan.Phases[i].Name, Start: at})
	r.emit(Event{Kind: EventPhase, At: at, Phase: r.plan.Phases[i].Name})
}

// phaseEnded stamps the end of phase i.
func (r *runner) phaseEnded(i int) {
	if i < len(r.phases) && r.phases[i].End.IsZero() {
		r.phases[i].End = r.clock.Now()
	}
}

// groups lists a tally's counts per tenant and class.
func groups(t *Tally) []GroupCounts {
	var out []GroupCounts
	for _, k := range t.Keys() {
		out = append(out, GroupCounts{Key: k, Counts: t.Of(k.Tenant, k.Class)})
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// sortEvents orders fault actions by time, an inject before a heal at the same instant.
func sortEvents(evs []faultEvent) {
	slices.SortStableFunc(evs, func(a, b faultEvent) int { return a.at.Compare(b.at) })
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func sortBySeq(es []ledger.Entry) {
	slices.SortFunc(es, func(a, b ledger.Entry) int { return cmp.Compare(a.Seq, b.Seq) })
}
