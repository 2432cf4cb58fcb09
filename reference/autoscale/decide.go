// Package autoscale is the reference runtime's autoscaler: it adds a worker to a group while work
// for the group's model waits persistently (or every slot stays busy since work last waited), and
// removes one once the group has idled, within
// declared bounds. Decide is the whole policy, pure and table-tested; Controller runs it on a
// ticker against a group it can observe and resize, and records every decision.
package autoscale

import (
	"fmt"
	"time"
)

// Observation is the group's load at one instant, as its workers last reported it.
type Observation struct {
	At time.Time
	// Workers is how many instances the group has, warm or warming.
	Workers int
	// Waiting is the work queued on the group's workers; Running the work they run; Capacity
	// their batch slots. A worker refuses for capacity only once its own queue is full, so
	// Waiting covers refusals too.
	Waiting, Running, Capacity int
	// Unobserved is how many of the group's workers have no fresh health report: what they run
	// and queue is not known, so the observation is neither pressured nor idle.
	Unobserved int
}

// Pressured reports whether work for the group waits on every worker known: what starts a run
// of pressure which, if it persists (Saturated keeps it going), asks for another worker.
func (o Observation) Pressured() bool { return o.Unobserved == 0 && o.Waiting > 0 }

// Saturated reports whether every batch slot of the group runs work, as far as every worker
// reports. Under a load above capacity a worker's queue empties for an instant each time its
// batch takes the waiting work, so a look may find nothing waiting with every slot full: that
// keeps a run of pressure going (it does not start one), or the scale_out_after clock would
// restart at about one look in three at three times the capacity and capacity would come late.
func (o Observation) Saturated() bool {
	return o.Unobserved == 0 && o.Capacity > 0 && o.Running >= o.Capacity
}

// Idle reports whether the group runs nothing and nothing waits, as far as every worker reports.
func (o Observation) Idle() bool { return o.Unobserved == 0 && o.Waiting == 0 && o.Running == 0 }

// Policy is the declared behaviour (config.Autoscale's numbers).
type Policy struct {
	Min, Max                    int
	ScaleOutAfter, ScaleInAfter time.Duration
	Cooldown                    time.Duration
}

// State is what Decide remembers between observations. The zero value is a fresh group.
type State struct {
	// PressuredSince and IdleSince are when the current run of pressure or idleness began;
	// zero when none runs.
	PressuredSince, IdleSince time.Time
	// LastDecision is when the group was last resized.
	LastDecision time.Time
}

// Action is what a decision does.
type Action string

// The actions; their strings are the control plane's AutoscaleDoc.Action.
const (
	Hold     Action = "hold"
	ScaleOut Action = "scale_out"
	ScaleIn  Action = "scale_in"
)

// Decision is Decide's answer: the action, the workers wanted after it, and why.
type Decision struct {
	Action Action
	Want   int
	Reason string
}

// Decide is the policy: scale out by one when pressure (work waiting, or every slot full since
// work last waited) has lasted ScaleOutAfter, scale in by one when idleness has lasted
// ScaleInAfter, never outside Min..Max, never twice within Cooldown. A look with a free slot and
// nothing waiting, or without every worker's health report, ends a run of pressure. A resize
// restarts both runs, so the next decision judges the resized group. At a load exactly at the
// group's capacity one look that finds work waiting, followed by full slots, scales out: a group
// with no headroom left is given some.
func Decide(o Observation, p Policy, s State) (Decision, State) {
	switch {
	case o.Pressured() || (o.Saturated() && !s.PressuredSince.IsZero()):
		s.IdleSince = time.Time{}
		if s.PressuredSince.IsZero() {
			s.PressuredSince = o.At
		}
	case o.Idle():
		s.PressuredSince = time.Time{}
		if s.IdleSince.IsZero() {
			s.IdleSince = o.At
		}
	default:
		s.PressuredSince, s.IdleSince = time.Time{}, time.Time{}
	}
	hold := Decision{Action: Hold, Want: clamp(o.Workers, p)}
	if hold.Want != o.Workers {
		hold.Reason = fmt.Sprintf("%d workers is outside %d..%d", o.Workers, p.Min, p.Max)
		hold.Action = ScaleOut
		if hold.Want < o.Workers {
			hold.Action = ScaleIn
		}
		return hold, resized(s, o.At)
	}
	if !s.LastDecision.IsZero() && o.At.Sub(s.LastDecision) < p.Cooldown {
		return hold, s
	}
	switch {
	case !s.PressuredSince.IsZero() && o.At.Sub(s.PressuredSince) >= p.ScaleOutAfter && o.Workers < p.Max:
		d := Decision{Action: ScaleOut, Want: o.Workers + 1,
			Reason: fmt.Sprintf("%d waiting, %d running on %d slots, pressed for %s", o.Waiting, o.Running, o.Capacity, o.At.Sub(s.PressuredSince).Round(time.Millisecond))}
		return d, resized(s, o.At)
	case !s.IdleSince.IsZero() && o.At.Sub(s.IdleSince) >= p.ScaleInAfter && o.Workers > p.Min:
		d := Decision{Action: ScaleIn, Want: o.Workers - 1,
			Reason: fmt.Sprintf("idle for %s", o.At.Sub(s.IdleSince).Round(time.Millisecond))}
		return d, resized(s, o.At)
	}
	return hold, s
}

// resized is s after a resize at t.
func resized(s State, t time.Time) State {
	return State{LastDecision: t}
}

func clamp(n int, p Policy) int { return min(max(n, p.Min), p.Max) }
