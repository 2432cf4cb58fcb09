package scenario

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
)

// recorder takes every ended request: it counts it in the run's and its phase's tallies, streams
// it to the sink, keeps it when the plan asks, and, in a phase with a nothing-lost expectation,
// remembers each request's id (not its entry) to reconcile against the evidence. Memory stays flat
// when entries are not kept but for those ids.
type recorder struct {
	keep   bool
	grace  time.Duration
	sink   func(ledger.Entry) error
	emit   func(Event)
	stop   *stopper
	now    func() time.Time
	invar  bool
	watch  *healWatch
	total  *Tally
	phases []*Tally

	mu      sync.Mutex
	sinkErr error
	entries []ledger.Entry
	// wantIDs says which phases have a nothing-lost expectation; ids holds their requests' ids.
	wantIDs []bool
	ids     [][]idRef
}

// idRef is what reconciling a request against the evidence needs of its entry.
type idRef struct {
	seq           int
	tenant, class string
	id            string
	indeterminate bool
}

// entry is the ledger entry Judge reconciles.
func (x idRef) entry() ledger.Entry {
	return ledger.Entry{Seq: x.seq, Tenant: x.tenant, Class: x.class, RequestID: x.id, Indeterminate: x.indeterminate}
}

func newRecorder(plan Plan, env Env, grace time.Duration, stop *stopper, now func() time.Time, emit func(Event)) *recorder {
	r := &recorder{keep: plan.KeepEntries, grace: grace, sink: env.Sink, emit: emit, stop: stop, now: now,
		invar: plan.Abort.OnInvariant, total: NewTally(grace),
		phases: make([]*Tally, len(plan.Phases)), wantIDs: make([]bool, len(plan.Phases)), ids: make([][]idRef, len(plan.Phases))}
	for i, ph := range plan.Phases {
		r.phases[i] = NewTally(grace)
		for _, e := range ph.Expect {
			r.wantIDs[i] = r.wantIDs[i] || e.NothingLost
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
	if r.watch != nil {
		r.watch.add(e)
	}
	r.mu.Lock()
	if r.sink != nil && r.sinkErr == nil {
		if err := safeSink(r.sink, e); err != nil {
			r.sinkErr = err
			r.mu.Unlock()
			r.stop.fire(r.now(), RuleError, fmt.Sprintf("the sink refused request #%d: %v", e.Seq, err))
			r.mu.Lock()
		}
	}
	if r.keep {
		r.entries = append(r.entries, e)
	}
	if r.wantIDs[phase] && (e.RequestID != "" || e.Indeterminate) {
		r.ids[phase] = append(r.ids[phase], idRef{seq: e.Seq, tenant: e.Tenant, class: e.Class, id: e.RequestID, indeterminate: e.Indeterminate})
	}
	r.mu.Unlock()
	r.emit(Event{Kind: EventEntry, At: e.End, Entry: &e})
	if r.invar {
		if why := brokenInvariant(e, r.grace); why != "" {
			r.stop.fire(r.now(), RuleInvariant, fmt.Sprintf("request #%d of %s %s", e.Seq, e.Tenant, why))
		}
	}
}

// safeSink hands e to sink, turning a panic into an error: a broken sink errors the run, it must
// not kill the process while faults are in force.
func safeSink(sink func(ledger.Entry) error, e ledger.Entry) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panicked: %s", panicText(p))
		}
	}()
	return sink(e)
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

// toReconcile returns phase's entries to reconcile of tenant in class (every tenant or class when
// empty): those with a request id and the indeterminate ones, with nothing but what Judge needs.
func (r *recorder) toReconcile(phase int, tenant, class string) []ledger.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ledger.Entry
	for _, x := range r.ids[phase] {
		if (tenant == "" || x.tenant == tenant) && (class == "" || x.class == class) {
			out = append(out, x.entry())
		}
	}
	return out
}

// kept returns the kept entries, ordered by Seq.
func (r *recorder) kept() []ledger.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]ledger.Entry(nil), r.entries...)
	sortBySeq(out)
	return out
}
