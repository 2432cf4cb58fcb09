package traffic

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Stats summarises one generator run, for validity gates (too little load, a generator that could
// not keep up) rather than for results, which the fire function records.
type Stats struct {
	// Sent is the number of fire calls made.
	Sent int
	// Elapsed is how long the generator issued requests: until the Duration bound, the last
	// request of MaxRequests, or cancellation. Sent/Elapsed is the offered rate. For ClosedLoop,
	// where a worker issues only when its last request ended, it equals Wall.
	Elapsed time.Duration
	// Wall is the time until every fire call had returned.
	Wall time.Duration
	// MaxLag is the largest delay between a request's scheduled time and its actual send; a
	// large lag means the generator, not the runtime, limited the load. Always 0 for ClosedLoop.
	MaxLag time.Duration
	// Senders is how many goroutines OpenLoop started for its fire calls: at least the run's peak
	// of calls in flight, far fewer than Sent when calls end before the next arrival. Always 0
	// for ClosedLoop, whose workers are Concurrency.
	Senders int
	// Err is set, and nothing fired, when the profile was refused (see Profile.Validate).
	Err error
}

// OpenLoop fires requests at the seeded Poisson arrivals of p.Rate, each at once on a goroutine
// (an idle one reused, else a new one: see senders), until p.Duration or p.MaxRequests
// (whichever comes first) or ctx ends, then waits for every fire call to return. fire gets the
// request's index and its scheduled time: measure latency from scheduled, not from the actual
// send, so generator lag is not hidden (coordinated omission).
// fire gets ctx itself, so cancelling ctx also cancels requests in flight.
func OpenLoop(ctx context.Context, p Profile, fire func(ctx context.Context, i int, scheduled time.Time)) Stats {
	if err := p.Validate(); err != nil {
		return Stats{Err: err}
	}
	if !p.IsOpenLoop() {
		return Stats{Err: fmt.Errorf("%w: OpenLoop needs Rate, profile %q", ErrShape, p.Name)}
	}
	next := arrivals(p.Seed, p.Rate)
	start := time.Now()
	var deadline time.Time
	if p.Duration > 0 {
		deadline = start.Add(p.Duration)
	}
	// One timer serves the whole run; with Go 1.23+ timers, Reset never sees a stale tick.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	wait := func(until time.Time) bool {
		d := time.Until(until)
		if d <= 0 {
			return ctx.Err() == nil
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		}
	}

	var st Stats
	send := newSenders(ctx, fire)
	for scheduled := start; p.MaxRequests == 0 || st.Sent < p.MaxRequests; {
		scheduled = scheduled.Add(next())
		if !deadline.IsZero() && !scheduled.Before(deadline) {
			wait(deadline) // observe the whole window, so Sent/Elapsed is the offered rate
			break
		}
		if !wait(scheduled) {
			break
		}
		st.MaxLag = max(st.MaxLag, time.Since(scheduled))
		send.send(arrival{i: st.Sent, at: scheduled})
		st.Sent++
	}
	st.Elapsed = time.Since(start)
	st.Senders = send.wait()
	st.Wall = time.Since(start)
	return st
}

// ClosedLoop runs p.Concurrency workers, each firing requests back to back, until p.Duration or
// p.MaxRequests (whichever comes first) or ctx ends; at most p.Concurrency fire calls are in
// flight at once. It waits for every fire call to return.
func ClosedLoop(ctx context.Context, p Profile, fire func(ctx context.Context, i int)) Stats {
	if err := p.Validate(); err != nil {
		return Stats{Err: err}
	}
	if p.IsOpenLoop() {
		return Stats{Err: fmt.Errorf("%w: ClosedLoop needs Concurrency, profile %q", ErrShape, p.Name)}
	}
	start := time.Now()
	var deadline time.Time
	if p.Duration > 0 {
		deadline = start.Add(p.Duration)
	}
	var issued atomic.Int64
	var wg sync.WaitGroup
	for range p.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil && (deadline.IsZero() || time.Now().Before(deadline)) {
				i := issued.Add(1) - 1
				if p.MaxRequests > 0 && i >= int64(p.MaxRequests) {
					return
				}
				fire(ctx, int(i))
			}
		})
	}
	wg.Wait()
	sent := int(issued.Load())
	if p.MaxRequests > 0 {
		sent = min(sent, p.MaxRequests)
	}
	wall := time.Since(start)
	return Stats{Sent: sent, Elapsed: wall, Wall: wall}
}
