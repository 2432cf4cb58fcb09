package scenario

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/chaos/ledger"
)

// Request is one request the run asks Env.Send to make.
type Request struct {
	// Seq numbers the run's requests from 1 in schedule order; a steady-state probe sent through
	// Send has Seq 0 and Phase "steady".
	Seq    int
	Tenant string
	Class  string
	// Phase is the name of the phase the request was scheduled in.
	Phase string
	// Scheduled is when the open-loop schedule said to send it (latency counts from here).
	Scheduled time.Time
	// Rand is seeded from the plan's seed and Seq alone, so a prompt drawn from it is the same
	// whatever order the requests' goroutines run in.
	Rand *rand.Rand
}

// Links is the part of chaos/fault's Engine a run uses for link faults.
type Links interface {
	Select(role, name string) []fault.Link
	InjectPart(role, name, part string, f fault.Fault) (*fault.Active, error)
	HealAll() error
	Residue() error
}

// Env is how a run reaches the runtime and the world around it. Send is required; the rest may
// be nil where the run does not need them (a plan with no link fault needs no Links).
type Env struct {
	// Send makes one request and returns its ledger entry (Seq, Tenant, Class set from req).
	Send func(ctx context.Context, req Request) ledger.Entry
	// Probe sends one steady-state probe as tenant in class; nil uses Send.
	Probe func(ctx context.Context, tenant, class string) ledger.Entry
	// Links injects link faults (toxiproxy); Nodes node faults (kill, stop, pause).
	Links Links
	Nodes fault.Nodes
	// Records counts the runtime's evidence records of a request id, to audit the requests of a
	// phase with a nothing-lost expectation (Expectation.NothingLost); nil leaves such
	// expectations INCONCLUSIVE.
	Records func(ctx context.Context, requestID string) (int, error)
	// Sink receives every entry as it ends (the game day's ledger.jsonl); an error from it aborts
	// the run (the record would be incomplete). Nil keeps nothing but tallies (and Entries when
	// the plan asks).
	Sink func(ledger.Entry) error
	// Observe receives the run's events as they happen (live status, metrics, journal); nil
	// drops them. It is called from the run's goroutines one at a time.
	Observe func(Event)
	// Abort delivers an operator's abort request (its reason); nil never aborts this way.
	Abort <-chan string
	// Clock is the time source; nil is the real clock. Tests pass a fake one.
	Clock Clock
	// CommandEnv is added to the environment of command faults' scripts ("NAME=value"): where the
	// runtime is and with which credential a script may act on it.
	CommandEnv []string
	// Grace is how far past its deadline a request may end before it counts as hung (default 1 s).
	Grace time.Duration
}

// Clock is the run's time source.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// EventKind names an Event.
type EventKind string

// Event kinds, in the order a run emits them.
const (
	EventSteady     EventKind = "steady"      // a steady-state check ended (Result set)
	EventPhase      EventKind = "phase"       // a phase started (Phase set)
	EventInjected   EventKind = "injected"    // a fault went into force (Fault set)
	EventHealed     EventKind = "healed"      // a fault was healed (Fault set; Result when it failed)
	EventEntry      EventKind = "entry"       // a request ended (Entry set)
	EventTick       EventKind = "tick"        // a second passed (Tally set: totals so far)
	EventAbort      EventKind = "abort"       // the run is aborting (Message set)
	EventRolledBack EventKind = "rolled_back" // rollback and residue check ended (Result set)
)

// Event is one thing that happened during a run.
type Event struct {
	Kind    EventKind
	At      time.Time
	Phase   string
	Fault   *FaultRecord
	Entry   *ledger.Entry
	Tally   *Tally
	Result  *Result
	Message string
}
