package router

import (
	"context"
	"sync"
	"time"
)

// pendingRecords tracks the evidence records an HTTP or gRPC completion writes after its response
// went out (a gRPC call ends for its client only when its handler returns). The write runs on its own goroutine so that the handler returns at once: an HTTP/1.1
// server reads a kept-alive connection's next request only once the previous handler returned,
// so a handler that waited for a replicated evidence append (a JetStream acknowledgement, which
// can take a few hundred milliseconds) held up whatever the client sent next on that connection.
// Under overload every connection was held by the same slow acknowledgement, and the requests
// sent meanwhile, sheds included, were all answered at once when it came (ADM-2 against the
// Compose deployment).
//
// Each record takes a ticket before its response completes, so that wait, called by a reader of
// the evidence, waits for every record whose response a client could already have seen: a
// client that lists its evidence after its response still finds its record, as it did when
// the write held the connection. Tickets taken later are not waited for, so a steady stream of
// new records never starves a reader.
type pendingRecords struct {
	mu      sync.Mutex
	next    uint64              // the next ticket
	open    map[uint64]struct{} // tickets whose record is not written yet
	changed chan struct{}       // closed, and replaced, whenever a ticket ends
}

// begin takes a ticket for a record about to be written.
func (p *pendingRecords) begin() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open == nil {
		p.open = map[uint64]struct{}{}
		p.changed = make(chan struct{})
	}
	t := p.next
	p.next++
	p.open[t] = struct{}{}
	return t
}

// end marks ticket t's record written (or given up).
func (p *pendingRecords) end(t uint64) {
	p.mu.Lock()
	delete(p.open, t)
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// wait returns once every ticket taken before it was called has ended, or with ctx's error.
func (p *pendingRecords) wait(ctx context.Context) error { return p.waitFor(ctx, p.mark()) }

// mark is the next ticket: waitFor(mark) waits for every ticket taken before mark was called.
func (p *pendingRecords) mark() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next
}

// waitFor returns once every ticket below mark has ended, or with ctx's error.
func (p *pendingRecords) waitFor(ctx context.Context, mark uint64) error {
	return p.waitUntil(ctx, func() bool {
		for t := range p.open {
			if t < mark {
				return false
			}
		}
		return true
	})
}

// waitUntil returns once done, called under mu, holds, or with ctx's error; done is asked again
// each time a ticket ends.
func (p *pendingRecords) waitUntil(ctx context.Context, done func() bool) error {
	p.mu.Lock()
	for {
		if done() {
			p.mu.Unlock()
			return nil
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
	}
}

// drain waits until no record is pending at all, or ctx ends: at shutdown, before the evidence
// client closes its spool. It counts the open tickets rather than keeping a sync.WaitGroup, whose
// Add must not race a Wait once the count reached zero: a handler still finishing after a forced
// stop of the gRPC server could take a ticket just as the last one ended, and the WaitGroup
// panics ("reused before previous Wait has returned").
func (p *pendingRecords) drain(ctx context.Context) error {
	return p.waitUntil(ctx, func() bool { return len(p.open) == 0 })
}

// recordLater counts j in the metrics at once and writes its evidence on its own goroutine under
// ticket t, taken with begin before the response completed.
func (r *Router) recordLater(t uint64, j job, end ending, started time.Time) {
	rec := r.account(j, end, started)
	go func() {
		defer r.pending.end(t)
		r.writeEvidence(j, rec)
	}()
}

// WaitRecords waits until every evidence record of a finished HTTP or gRPC response is written, or ctx
// ends. The runtime calls it after the front doors stopped and before the evidence client closes.
func (r *Router) WaitRecords(ctx context.Context) error { return r.pending.drain(ctx) }
