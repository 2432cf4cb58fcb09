// Package scenario is the one place that plans, runs, records and judges a fault scenario: the
// Resilience specs and `arcert gameday` both build a Plan, hand it to Run with an Env that knows
// how to reach the runtime, and judge the Outcome it returns. It imports neither Ginkgo nor
// Gomega: gates and expectations return Result values, never strings parsed back.
//
// A run is: the steady-state hypothesis checked (Steady), the phases played back to back with
// their open-loop load, the faults injected on their schedule (each registers its undo as it is
// injected), expectations judged per phase, abort rules watched every second, and then, whatever
// happened (success, failure, abort, panic, cancelled context), every fault rolled back, the
// residue checked, and the steady state checked again with the recovery time measured.
package scenario

import (
	"context"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/chaos/ledger"
)

// Verdict is the judgement of a gate, an expectation or a whole run.
type Verdict string

// Verdicts, as the conformance report names them.
const (
	Pass         Verdict = "PASS"
	Fail         Verdict = "FAIL"
	Invalid      Verdict = "INVALID"      // a validity gate failed: too few samples, no steady state
	Inconclusive Verdict = "INCONCLUSIVE" // a control failed: the check could not be judged
)

// Result is a verdict with one human sentence saying why.
type Result struct {
	Verdict Verdict `json:"verdict"`
	Message string  `json:"message"`
}

// OK reports whether the result is a PASS.
func (r Result) OK() bool { return r.Verdict == Pass }

// Plan is a scenario as data: what to send, what to break and when, what to expect, when to stop.
type Plan struct {
	Name string `json:"name"`
	// Seed fixes every random choice: arrivals, the parts a selector picks, the requests' prompts.
	Seed int64 `json:"seed"`
	// Steady is the steady-state hypothesis, checked before the first phase and after rollback.
	Steady Steady `json:"steady"`
	// Phases run back to back; their load starts and stops with them.
	Phases []Phase `json:"phases"`
	// Faults are injected At a time from the start of the first phase and held For a duration.
	Faults []Fault `json:"faults"`
	Abort  Abort   `json:"abort"`
	// Recovery is the declared recovery time: after rollback the steady state must hold again
	// within it (the target's resilience.recovery).
	Recovery time.Duration `json:"recovery"`
	// KeepEntries makes Run return every ledger entry in Outcome.Entries (the specs judge them);
	// a game day leaves it false and streams entries to Env.Sink, so memory stays flat.
	KeepEntries bool `json:"-"`
}

// Duration is the total length of the plan's phases.
func (p Plan) Duration() time.Duration {
	var d time.Duration
	for _, ph := range p.Phases {
		d += ph.Duration
	}
	return d
}

// Phase is a stretch of the run with its own load and expectations.
type Phase struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration"`
	Load     []Load        `json:"load"`
	// Expect is judged on the requests that started in the phase.
	Expect []Expectation `json:"expect,omitempty"`
}

// Load is open-loop (Poisson) load of one tenant in one traffic class.
type Load struct {
	Tenant string `json:"tenant"`
	Class  string `json:"class,omitempty"`
	// Rate is requests per second once ramped.
	Rate float64 `json:"rate"`
	// Ramp raises the rate linearly from 0 to Rate over this long at the phase's start.
	Ramp time.Duration `json:"ramp,omitempty"`
}

// Fault is one fault on the schedule: a link fault or node fault of chaos/fault on the parts
// Select picks, a user's command with its rollback, or (for the specs) a custom injection.
type Fault struct {
	Name string        `json:"name"`
	At   time.Duration `json:"at"`
	For  time.Duration `json:"for"`
	// Select picks the links (link kinds) or parts (node kinds) the fault goes on.
	Select Selector `json:"select"`
	// Fault is the fault itself; its Kind says whether it is a link or a node fault.
	Fault fault.Fault `json:"fault"`
	// Command, when set, replaces Fault: a user's script and the script that undoes it.
	Command *Command `json:"command,omitempty"`
	// Custom, when set, replaces both: it injects and returns what heals (the specs' faults that
	// measure the link as they cut it). Its heal is registered for rollback like any other. The
	// context it gets bounds the injection only and ends when Custom returns: a heal that needs
	// one must bring its own.
	Custom func(ctx context.Context) (heal func() error, err error) `json:"-"`
}

// Selector picks links or parts by role, name and part; Mode says how many of the matches.
type Selector struct {
	Role string `json:"role"`
	Name string `json:"name,omitempty"`
	Part string `json:"part,omitempty"`
	Mode Mode   `json:"mode"`
}

// Mode is how many of a selector's matches a fault goes on: one (seeded pick), all, a fixed
// number (seeded picks) or a percentage (rounded up, at least one).
type Mode struct {
	Kind    ModeKind `json:"kind"`
	N       int      `json:"n,omitempty"`
	Percent float64  `json:"percent,omitempty"`
}

// ModeKind names a Mode.
type ModeKind string

// Mode kinds. The zero Mode is All.
const (
	All     ModeKind = "all"
	One     ModeKind = "one"
	Fixed   ModeKind = "fixed"
	Percent ModeKind = "percent"
)

// Command is a fault only the user can cause (kubectl delete pod, a firewall rule): Run is run
// with `sh -c` at the fault's start, Rollback at its end and on every rollback. Either failing
// is recorded; a failed Rollback is residue.
type Command struct {
	Run      string        `json:"run"`
	Rollback string        `json:"rollback"`
	Timeout  time.Duration `json:"timeout,omitempty"`
}

// Steady is the steady-state hypothesis: per tenant, Probes probes in a row are served within
// Within; and, judged over each phase named in Phases (all phases when empty), every tenant's
// served share and p90 TTFT stay within the tolerances.
type Steady struct {
	Tenants []SteadyTenant `json:"tenants"`
	Probes  int            `json:"probes"`
	Within  time.Duration  `json:"within"`
	// CompletedOnly counts only completed probes: a runtime still rerouting or degrading after an
	// earlier fault is not at its steady state (the Resilience specs ask this; a game day counts
	// every served probe).
	CompletedOnly bool `json:"completed_only,omitempty"`
}

// counts reports whether probe e counts towards the steady state.
func (s Steady) counts(e ledger.Entry) bool {
	if s.CompletedOnly {
		return e.Outcome == outcome.Completed
	}
	return e.Served()
}

// SteadyTenant is one tenant's steady-state tolerances.
type SteadyTenant struct {
	Tenant string `json:"tenant"`
	Class  string `json:"class,omitempty"`
	// MinServed is the share of its probes that must be served (0..1).
	MinServed float64 `json:"min_served"`
	// MaxP90TTFT bounds the p90 time to first token of the probes; 0 does not judge it.
	MaxP90TTFT time.Duration `json:"max_p90_ttft,omitempty"`
}

// Expectation is judged over the requests that started in its phase (of Tenant, every tenant when
// empty; of Class, every class when empty).
type Expectation struct {
	Name   string `json:"name"`
	Tenant string `json:"tenant,omitempty"`
	Class  string `json:"class,omitempty"`
	// MinServed is the share that must be served; 0 does not judge it.
	MinServed float64 `json:"min_served,omitempty"`
	// Allowed lists the outcomes allowed, as "class" or "class/reason" (completed,
	// refused/dependency_unavailable); empty allows every outcome of the contract.
	Allowed []string `json:"allowed,omitempty"`
	// Forbidden lists served_by values (regions, providers) that must never serve these requests:
	// the policy kept through a fallback.
	Forbidden []string `json:"forbidden,omitempty"`
	// NothingLost reconciles every request with a request id (served, refused or indeterminate)
	// against the runtime's evidence (Env.Records): each must have exactly one record; any lost or
	// duplicated fails, and no request id at all is INVALID.
	NothingLost bool `json:"nothing_lost,omitempty"`
	// MaxP90TTFT bounds the served requests' p90 time to first token; 0 does not judge it.
	MaxP90TTFT time.Duration `json:"max_p90_ttft,omitempty"`
	// MinSamples is the validity gate: fewer requests than this is INVALID (default 10).
	MinSamples int `json:"min_samples,omitempty"`
}

// Abort says when to stop early. Abort rules are checked every second of the run.
type Abort struct {
	// ErrorBudget is, per tenant, the largest share of its requests that may go unserved since
	// the run started (after MinSamples of them, default 10); going over aborts the run.
	ErrorBudget map[string]float64 `json:"error_budget,omitempty"`
	MinSamples  int                `json:"min_samples,omitempty"`
	// Deadline aborts a run still going after this long (phases, waits and all); 0: none.
	Deadline time.Duration `json:"deadline,omitempty"`
	// OnInvariant aborts at the first entry breaking a ledger invariant (no or several outcomes,
	// a contract violation, a request past its deadline plus grace).
	OnInvariant bool `json:"on_invariant,omitempty"`
}
