package scenario

import (
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
)

// Status is how a run ended, as the game day's journal states it.
type Status string

// Run statuses.
const (
	// StatusCompleted: every phase ran, every expectation passed, rollback left no residue and the
	// steady state came back within the declared recovery time.
	StatusCompleted Status = "completed"
	// StatusDeviated: the run went to the end but an expectation, the recovery or the residue check
	// failed: the runtime did not behave as hypothesised.
	StatusDeviated Status = "deviated"
	// StatusAborted: an abort rule fired (error budget, deadline, invariant, operator, signal).
	StatusAborted Status = "aborted"
	// StatusInvalid: the run could not be judged (no steady state before the first phase, too few
	// samples).
	StatusInvalid Status = "invalid"
	// StatusErrored: the harness itself failed (a fault could not be injected, the sink failed).
	StatusErrored Status = "errored"
)

// Outcome is everything a run did and concluded, in the order it happened.
type Outcome struct {
	Plan   string    `json:"plan"`
	Seed   int64     `json:"seed"`
	Status Status    `json:"status"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// SteadyBefore and SteadyAfter are the steady-state checks before the first phase and after
	// rollback. Recovery is how long the steady state took to come back after the last fault was
	// put back: when rollback undid nothing, from the last heal of the play until every
	// steady-state tenant's requests sent after it were served Probes in a row (if they were); else
	// from the end of rollback until the check after it passed.
	SteadyBefore SteadyRecord  `json:"steady_before"`
	SteadyAfter  SteadyRecord  `json:"steady_after"`
	Recovery     time.Duration `json:"recovery"`
	// RecoveryResult judges Recovery against Plan.Recovery.
	RecoveryResult Result          `json:"recovery_result"`
	Phases         []PhaseRecord   `json:"phases"`
	Faults         []FaultRecord   `json:"faults"`
	Expectations   []ExpectRecord  `json:"expectations"`
	Abort          *AbortRecord    `json:"abort,omitempty"`
	Rollback       []RollbackEntry `json:"rollback"`
	// Residue is the residue check after rollback: PASS when nothing is left broken.
	Residue Result `json:"residue"`
	// Totals are the run's counts per tenant and class, over every phase.
	Totals []GroupCounts `json:"totals"`
	// Error is the harness error behind an errored run.
	Error string `json:"error,omitempty"`
	// Entries are every request's entry when the plan asked to keep them (Plan.KeepEntries).
	Entries []ledger.Entry `json:"-"`
}

// ResidueLeft reports whether rollback left something broken, whatever the status: an aborted or
// errored day reports its abort or error as its status, and residue only here and in Residue. A
// caller should exit differently (and louder) on it: the target needs a person.
func (o Outcome) ResidueLeft() bool { return o.Residue.Verdict == Fail }

// SteadyRecord is one steady-state check: per tenant, its probes and the result.
type SteadyRecord struct {
	Start   time.Time     `json:"start"`
	End     time.Time     `json:"end"`
	Result  Result        `json:"result"`
	Tenants []GroupCounts `json:"tenants,omitempty"`
}

// PhaseRecord is one phase as it ran, with its counts per tenant and class.
type PhaseRecord struct {
	Name   string        `json:"name"`
	Start  time.Time     `json:"start"`
	End    time.Time     `json:"end"`
	Counts []GroupCounts `json:"counts"`
}

// GroupCounts is one tenant-and-class group's counts.
type GroupCounts struct {
	Key
	Counts
}

// FaultRecord is one fault as it ran: what, on which links or parts, when it held, and any error
// injecting or healing it.
type FaultRecord struct {
	Name string `json:"name"`
	// Kind is the fault kind ("down", "latency", "kill", "command"…) and Detail its parameters.
	Kind    string    `json:"kind"`
	Detail  string    `json:"detail,omitempty"`
	Role    string    `json:"role,omitempty"`
	Targets []string  `json:"targets,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	Error   string    `json:"error,omitempty"`
}

// ExpectRecord is one expectation's judgement in its phase.
type ExpectRecord struct {
	Phase       string      `json:"phase"`
	Expectation Expectation `json:"expectation"`
	Result      Result      `json:"result"`
	// Samples is how many requests it judged.
	Samples int `json:"samples"`
}

// AbortRecord says why and when the run stopped early.
type AbortRecord struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	// Rule is the abort rule that fired: error_budget, deadline, invariant, operator, signal, panic.
	Rule string `json:"rule"`
}

// RollbackEntry is one undo run during rollback.
type RollbackEntry struct {
	What  string    `json:"what"`
	At    time.Time `json:"at"`
	Error string    `json:"error,omitempty"`
}
