package scenario

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
)

// recorder takes every ended request: it counts it in the run's and its phase's tallies, streams
// it to the sink, keeps it when the plan asks, and remembers what the nothing-lost expectations
// reconcile against the evidence: the indeterminate requests (they are few) and, in a phase with a
// nothing-lost expectation, the served ones, each cut down to its id and labels (about a hundred
// bytes a request). Memory stays flat when entries are not kept and no phase audits.
type recorder struct {
	keep   bool
	grace  time.Duration
	sink   func(ledger.Entry) error
	emit   func(Event)
	stop   *stopper
	now    func() time.Time
	invar  bool
	total  *Tally
	phases []*Tally

	// audited says, per phase, whether a nothing-lost expectation audits its served requests.
	audited []bool

	mu      sync.Mutex
	sinkErr error
	entries []ledger.Entry
	// audit holds, per phase, the entries to reconcile: indeterminate ones, and served ones where
	// the phase is audited.
	audit [][]ledger.Entry
}

func newRecorder(plan Plan, env Env, grace time.Duration, stop *stopper, now func() time.Time, emit func(Event)) *recorder {
	r := &recorder{keep: plan.KeepEntries, grace: grace, sink: env.Sink, emit: emit, stop: stop, now: now,
		invar: plan.Abort.OnInvariant, total: NewTally(grace),
		phases: make([]*Tally, len(plan.Phases)), audit: make([][]ledger.Entry, len(plan.Phases)),
		audited: make([]bool, len(plan.Phases))}
	for i, ph := range plan.Phases {
		r.phases[i] = NewTally(grace)
		for _, e := range ph.Expect {
			r.audited[i] = r.audited[i] || e.NothingLost
		}
	}
	return r
}

// send makes one request and records it. A panic in Send stops the run (rule panic) and is
// recorded as an indeterminate entry: what the request did is unknown.
func (r *recorder) send(ctx context.Context, send func(context.Context, Request) ledger.Entry, req Request, phase int) {
	var e ledger.Entry
	func() {
		defer func() {
			if p := recover(); p != nil {
				at := r.now()
				e = ledger.Entry{Start: at, End: at, Indeterminate: true}
				r.stop.fire(at, RulePanic, fmt.Sprintf("Send panicked on request #%d: %s", req.Seq, panicText(p)))
			}
		}()
		e = send(ctx, req)
	}()
	e.Seq, e.Phase = req.Seq, req.Phase
	if e.Tenant == "" {
		e.Tenant = req.Tenant
	}
	if e.Class == "" {
		e.Class = req.Class
	}
	r.add(e, phase)
}

// add records one ended request of phase.
func (r *recorder) add(e ledger.Entry, phase int) {
	r.total.Add(e)
	r.phases[phase].Add(e)
	r.mu.Lock()
	if r.sink != nil && r.sinkErr == nil {
		if err := r.sink(e); err != nil {
			r.sinkErr = err
			r.mu.Unlock()
			r.stop.fire(r.now(), RuleError, fmt.Sprintf("the sink refused request #%d: %v", e.Seq, err))
			r.mu.Lock()
		}
	}
	if r.keep {
		r.entries = append(r.entries, e)
	}
	if e.Indeterminate || (r.audited[phase] && e.Served() && e.RequestID != "") {
		r.audit[phase] = append(r.audit[phase], auditEntry(e))
	}
	r.mu.Unlock()
	r.emit(Event{Kind: EventEntry, At: e.End, Entry: &e})
	if r.invar {
		if why := brokenInvariant(e, r.grace); why != "" {
			r.stop.fire(r.now(), RuleInvariant, fmt.Sprintf("request #%d of %s %s", e.Seq, e.Tenant, why))
		}
	}
}

// brokenInvariant says which ledger invariant e breaks, empty when none.
func brokenInvariant(e ledger.Entry, grace time.Duration) string {
	if ps := ledger.OneTerminalOutcome([]ledger.Entry{e}); len(ps) > 0 {
		return ps[0].Detail
	}
	if e.Deadline > 0 && e.Latency() > e.Deadline+grace {
		return fmt.Sprintf("took %s against a deadline of %s", e.Latency().Round(time.Millisecond), e.Deadline)
	}
	return ""
}

// auditEntry is what reconciling e needs: who sent it, its id, and how it ended.
func auditEntry(e ledger.Entry) ledger.Entry {
	return ledger.Entry{Seq: e.Seq, Tenant: e.Tenant, Class: e.Class, RequestID: e.RequestID,
		Indeterminate: e.Indeterminate, Outcome: e.Outcome, Reason: e.Reason}
}

// auditedEntries returns phase's entries to reconcile: its indeterminate ones, and its served ones when
// a nothing-lost expectation audits the phase.
func (r *recorder) auditedEntries(phase int) []ledger.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ledger.Entry(nil), r.audit[phase]...)
}

// kept returns the kept entries, ordered by Seq.
func (r *recorder) kept() []ledger.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]ledger.Entry(nil), r.entries...)
	sortBySeq(out)
	return out
}
