package scenario

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"time"
)

// tickEvery is how often the abort rules are checked and the totals reported: a second, the
// resolution an operator watching a game day needs.
const tickEvery = time.Second

// faultActionTimeout bounds one fault action (an injection, one undo of a heal or of rollback)
// when Env.FaultTimeout is 0: long enough for a container to restart, short enough that one
// hung action (a toxiproxy call, a custom heal ignoring its context) cannot hold the run and every
// later fault. A command fault's script is bounded by its own Timeout when that is longer.
const faultActionTimeout = 2 * time.Minute

// faultEvent is one scheduled fault action: inject (heal false) or heal fault idx at at.
type faultEvent struct {
	at   time.Time
	idx  int
	heal bool
}

// play runs the phases back to back from start: it fires each load's arrivals, injects and heals
// the faults on their schedule and checks the abort rules every tick. Only play waits on the
// clock, so a virtual clock plays the whole schedule at once. Requests and fault actions run in
// their own goroutines, so a slow injection does not hold the load back; play returns once every
// one of them has returned.
func (r *runner) play(ctx context.Context) {
	loadCtx := r.loadCtx
	var reqs, acts sync.WaitGroup
	defer func() {
		reqs.Wait()
		acts.Wait()
	}()
	start := r.clock.Now()
	end := start.Add(r.plan.Duration())
	events := r.faultSchedule(start, end)
	// Fault actions run one at a time on their own goroutine, in schedule order, so a slow
	// injection does not hold the load back and a heal never overtakes its injection. On a virtual
	// clock play waits for each, so the schedule's time does not run ahead of the faults.
	queue := make(chan faultEvent, len(events))
	_, virtual := r.clock.(*VirtualClock)
	acted := make(chan struct{})
	acts.Go(func() {
		for ev := range queue {
			r.faultAction(ctx, ev)
			if virtual {
				acted <- struct{}{}
			}
		}
	})
	closed := false
	closeQueue := func() {
		if !closed {
			close(queue)
			closed = true
		}
	}
	defer closeQueue()
	runFault := func(ev faultEvent) {
		queue <- ev
		if virtual {
			<-acted
		}
	}
	nextTick := start.Add(tickEvery)
	phaseStart := start
	for i, ph := range r.plan.Phases {
		phaseEnd := phaseStart.Add(ph.Duration)
		if i == len(r.plan.Phases)-1 {
			phaseEnd = end
		}
		r.phaseStarted(i, phaseStart)
		var streams []*arrivals
		for j, l := range ph.Load {
			streams = append(streams, newArrivals(r.plan.Seed, i, j, l, phaseStart, phaseEnd))
		}
	phase:
		for {
			var next *arrivals
			for _, s := range streams {
				if !s.next.IsZero() && (next == nil || s.next.Before(next.next)) {
					next = s
				}
			}
			due := phaseEnd
			if next != nil {
				due = next.next
			}
			if len(events) > 0 && events[0].at.Before(due) {
				due = events[0].at
			}
			if nextTick.Before(due) {
				due = nextTick
			}
			if r.deadline.Before(due) {
				due = r.deadline
			}
			if !r.waitUntil(ctx, due) {
				r.phaseEnded(i)
				return
			}
			now := r.clock.Now()
			switch {
			case !now.Before(r.deadline):
				r.stop.fire(now, RuleDeadline, fmt.Sprintf("the run passed its deadline of %s", r.plan.Abort.Deadline))
			case len(events) > 0 && !events[0].at.After(now):
				runFault(events[0])
				events = events[1:]
			case !nextTick.After(now):
				if virtual {
					// Virtual seconds pass in microseconds: let the second's requests end, as
					// they would on the wall clock, before the next second's are sent.
					reqs.Wait()
				}
				r.tick(now)
				nextTick = nextTick.Add(tickEvery)
			case next != nil && !next.next.After(now):
				r.seq++
				req := Request{Seq: r.seq, Tenant: next.load.Tenant, Class: next.load.Class, Phase: ph.Name,
					Scheduled: next.next, Rand: requestRand(r.plan.Seed, r.seq)}
				reqs.Go(func() { r.rec.send(loadCtx, r.env.Send, req, i) })
				next.advance()
			case !now.Before(phaseEnd):
				r.phaseEnded(i)
				phaseStart = phaseEnd
				break phase
			}
			if r.stop.stopped() {
				r.phaseEnded(i)
				return
			}
		}
	}
	// Faults whose window runs past the last phase are healed at its end.
	for _, ev := range events {
		if ev.heal {
			runFault(ev)
		}
	}
	closeQueue()
}

// faultAction injects or heals one fault. A failed injection stops the run (errored); a failed
// heal stays registered, is retried in rollback and is recorded, but does not stop the run. Both
// are bounded: an injection that does not return within its timeout is recorded as failed (what
// it registers later is still rolled back) and play moves on; a heal's undos are bounded one by
// one by the registry. An injection still queued when the run stopped is skipped.
func (r *runner) faultAction(ctx context.Context, ev faultEvent) {
	defer func() {
		if p := recover(); p != nil {
			r.stop.fire(r.clock.Now(), RulePanic, "fault action panicked: "+panicText(p))
		}
	}()
	if ev.heal {
		_ = r.faults.heal(context.WithoutCancel(ctx), ev.idx)
		return
	}
	if r.stop.stopped() {
		return
	}
	f := r.plan.Faults[ev.idx]
	timeout := cmp.Or(r.env.FaultTimeout, faultActionTimeout)
	if f.Command != nil {
		timeout = max(timeout, commandBound(*f.Command))
	}
	done := make(chan error, 1)
	actx, cancel := context.WithTimeout(r.loadCtx, timeout)
	go func() {
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("injecting fault %s panicked: %s", f.Name, panicText(p))
			}
		}()
		done <- r.faults.inject(actx, ev.idx)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			r.stop.fire(r.clock.Now(), RuleError, err.Error())
		}
	case <-timer.C:
		msg := fmt.Sprintf("injecting fault %s did not return within %s", f.Name, timeout)
		r.faults.timedOut(ev.idx, msg)
		r.stop.fire(r.clock.Now(), RuleError, msg)
	}
}

// commandBound is how long a command fault's script may take, killing and all.
func commandBound(c Command) time.Duration {
	return cmp.Or(c.Timeout, commandTimeout) + commandWaitDelay + time.Second
}

// faultSchedule lists every inject and heal of the plan's faults by time; a window passing the
// end of the last phase is cut there. A fault that starts at or after the end is never injected.
func (r *runner) faultSchedule(start, end time.Time) []faultEvent {
	var evs []faultEvent
	for i, f := range r.plan.Faults {
		at := start.Add(f.At)
		if !at.Before(end) {
			continue
		}
		evs = append(evs, faultEvent{at: at, idx: i}, faultEvent{at: minTime(at.Add(f.For), end), idx: i, heal: true})
	}
	sortEvents(evs)
	return evs
}

// waitUntil waits on the clock until t, the run is stopped, the context ends or the operator
// aborts; it reports whether the run goes on.
func (r *runner) waitUntil(ctx context.Context, t time.Time) bool {
	if r.stop.stopped() {
		return false
	}
	d := t.Sub(r.clock.Now())
	if d <= 0 {
		return true
	}
	select {
	case <-r.clock.After(d):
		return !r.stop.stopped()
	case <-ctx.Done():
		r.stop.fire(r.clock.Now(), RuleSignal, "the run's context ended: "+context.Cause(ctx).Error())
	case reason := <-r.env.Abort:
		r.stop.fire(r.clock.Now(), RuleOperator, "the operator aborted: "+reason)
	case <-r.stop.done:
	}
	return false
}

// tick reports the totals and checks the error budgets, each once its tenant has MinSamples
// requests (default 10: one early failure is not a budget spent).
func (r *runner) tick(now time.Time) {
	r.emit(Event{Kind: EventTick, At: now, Tally: r.rec.total})
	for _, tenant := range sortedKeys(r.plan.Abort.ErrorBudget) {
		budget := r.plan.Abort.ErrorBudget[tenant]
		c := r.rec.total.Of(tenant, "")
		if c.Requests == 0 || c.Requests < cmp.Or(r.plan.Abort.MinSamples, defaultMinSamples) {
			continue
		}
		if unserved := 1 - c.ServedShare(); unserved > budget {
			r.stop.fire(now, RuleErrorBudget, fmt.Sprintf("%s went over its error budget: %d of %d requests unserved (%.1f%%, budget %.1f%%)",
				tenant, c.Requests-c.Served, c.Requests, 100*unserved, 100*budget))
			return
		}
	}
}
