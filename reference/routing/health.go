package routing

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// OnChange sets fn to be called with the new capacity whenever it changes,
// so the router can resize admission to what is up. Set it before Run; fn
// runs on Run's goroutine, one call at a time, and must not block long.
func (p *Pool) OnChange(fn func(capacity int)) { p.onChange = fn }

// Run polls every worker's Health every HealthInterval (each call bounded by
// the larger of HealthInterval and minHealthTimeout) until ctx ends; it returns after every poller has stopped.
// The first poll is immediate, so WaitHealthy returns quickly at startup. A
// Pool runs once; a second concurrent or later call returns at once.
func (p *Pool) Run(ctx context.Context) {
	if !p.running.CompareAndSwap(false, true) {
		p.log.Error("routing: Pool.Run called more than once")
		return
	}
	p.setMu.Lock()
	p.runCtx = ctx
	for _, w := range p.set.Load().workers {
		p.startWatch(ctx, w)
	}
	p.setMu.Unlock()
	defer p.watchers.Wait()
	notified := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
			if c := p.Capacity(); c != notified {
				notified = c
				if p.onChange != nil {
					p.onChange(c)
				}
			}
		}
	}
}

// Health-poll hysteresis: a healthy worker leaves rotation only after unhealthyAfter failed polls
// in a row, each allowed at least minHealthTimeout, because one slow poll on a busy host is not a
// dead worker (and flapping would scatter a tenant's prefix affinity). A worker that fails a real
// request is still taken out at once (MarkUnhealthy), and one that answers "unhealthy" at once.
// A worker taken out because its polls went unanswered (silent) also has its calls in flight
// cancelled (Call): with its packets dropped rather than refused they would otherwise hang.
const (
	unhealthyAfter   = 3
	minHealthTimeout = 500 * time.Millisecond
)

// startWatch polls w until ctx ends or w is removed; the caller holds setMu.
func (p *Pool) startWatch(ctx context.Context, w *Worker) {
	wctx, cancel := context.WithCancel(ctx)
	p.watchers.Go(func() {
		defer cancel()
		go func() {
			select {
			case <-w.stop:
				cancel()
			case <-wctx.Done():
			}
		}()
		p.watch(wctx, w)
	})
}

// watch polls one worker until ctx ends.
func (p *Pool) watch(ctx context.Context, w *Worker) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	failures := 0
	for {
		marks := w.marks.Load()
		cctx, cancel := context.WithTimeout(ctx, max(p.interval, minHealthTimeout))
		var md metadata.MD
		var on peer.Peer
		resp, err := w.Client.Health(cctx, &arcertv1.HealthRequest{}, grpc.Header(&md), grpc.Peer(&on))
		cancel()
		if err == nil {
			w.observeAttestation(md)
		}
		if ctx.Err() != nil {
			return // shutting down: a cancelled poll says nothing about the worker
		}
		if err != nil {
			failures++
		} else {
			failures = 0
		}
		if err == nil {
			// It answers: before observe puts it back in rotation, so calls bind to a live period.
			w.reachable()
		}
		if err == nil || failures >= unhealthyAfter || !w.Healthy() {
			w.observe(resp, err, marks, on.LocalAddr)
		}
		if failures >= unhealthyAfter && silent(err) {
			// Out of rotation now (observe), so a retry goes elsewhere: end the calls stuck on it.
			w.unreachable(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Capacity is the sum of max_batch over healthy workers, from their last
// Health: how many sequences the pool can run at once right now. Elastic
// workers are left out: their group's capacity is their own engines'.
func (p *Pool) Capacity() int {
	n := 0
	for _, w := range p.set.Load().workers {
		if w.Healthy() && w.Serving() && !w.Elastic {
			n += int(w.Health().GetMaxBatch())
		}
	}
	return n
}

// WaitHealthy blocks until at least n workers are healthy or ctx ends, for
// startup ordering. It wakes on health changes rather than sleeping.
func (p *Pool) WaitHealthy(ctx context.Context, n int) error {
	if all := len(p.set.Load().workers); n > all {
		return fmt.Errorf("%w: want %d healthy of %d workers", ErrNoWorker, n, all)
	}
	for {
		p.changeMu.Lock()
		ch := p.changed
		p.changeMu.Unlock()
		have := p.healthyCount()
		if have >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("routing: %d of %d wanted workers healthy: %w", have, n, ctx.Err())
		}
	}
}

func (p *Pool) healthyCount() int {
	n := 0
	for _, w := range p.set.Load().workers {
		if w.Healthy() {
			n++
		}
	}
	return n
}

// signal tells waiters and Run that health or capacity changed.
func (p *Pool) signal() {
	p.changeMu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.changeMu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}
