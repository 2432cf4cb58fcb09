package driver

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// A load balancer sends a request only to a router that reports ready. OnlyReady gives a Client
// that spreads its calls that way, and Readiness is the harness's load balancer's view: it polls
// each router's /healthz and calls a router ready while it answers 200. A rolling restart is
// then judged as users behind such a balancer see it.

// PathHealthz is the router's readiness probe, for load balancers in front of it.
const PathHealthz = "/healthz"

// OnlyReady returns a Client that sends each inference call to the next router ready says is
// ready, sharing this one's connections, credential and outcome rules (as At does). When no
// router is ready it takes the next in turn anyway, as a balancer with no healthy backend left
// must still do something: the caller's validity gate says whether that happened.
func (c *Client) OnlyReady(ready func(base string) bool) *Client {
	one := *c
	one.routes = spread{bases: c.routes.bases, next: new(atomic.Uint64), named: c.routes.named, ready: ready}
	return &one
}

// pickReady is the first router from turn n on (round-robin) that ready accepts, or the n-th in
// turn when none does.
func pickReady(bases []string, n uint64, ready func(string) bool) string {
	k := uint64(len(bases))
	for i := range k {
		if b := bases[(n+i)%k]; ready(b) {
			return b
		}
	}
	return bases[n%k]
}

// Change is one router's readiness changing, as a poll saw it.
type Change struct {
	Base  string
	Ready bool
	// Answered is whether the router answered the probe at all, with any status, within the
	// period. A router that is not ready but answers is giving notice (a draining router's 503);
	// one that does not answer is gone, or too slow to say, and a balancer learns nothing from it.
	Answered bool
	// Probe is the number of the probe of Base that saw the change (1 for the first); the probes
	// between two changes are the difference of their numbers. At is when that probe ended, up
	// to a period after the router's state changed when it timed out, so probe numbers, not
	// times, count how long a state lasted.
	Probe int
	At    time.Time
}

// Readiness polls routers' /healthz and keeps whether each is ready (last answer 200) and every
// change it saw. It is safe for concurrent use. Until its first answer a router counts as not
// ready, as a balancer that has not probed it yet would.
type Readiness struct {
	hc    *http.Client
	bases []string
	every time.Duration

	mu    sync.Mutex
	ready map[string]bool
	// answered is whether each router answered its last probe (Change.Answered).
	answered map[string]bool
	changes  []Change
	polled   map[string]int

	stop context.CancelFunc
	done chan struct{}
}

// WatchReadiness starts polling every base URL's /healthz every period (each probe bounded by the
// period) until Stop. hc nil uses a client of its own.
func WatchReadiness(hc *http.Client, bases []string, every time.Duration) *Readiness {
	if hc == nil {
		hc = &http.Client{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Readiness{hc: hc, bases: append([]string(nil), bases...), every: every, ready: map[string]bool{}, answered: map[string]bool{},
		polled: map[string]int{}, stop: cancel, done: make(chan struct{})}
	go r.loop(ctx)
	return r
}

// loop probes every router once per period, all at once, until ctx ends.
func (r *Readiness) loop(ctx context.Context) {
	defer close(r.done)
	tick := time.NewTicker(r.every)
	defer tick.Stop()
	for {
		var wg sync.WaitGroup
		for _, b := range r.bases {
			wg.Go(func() {
				ready, answered := r.probe(ctx, b)
				r.set(b, ready, answered)
			})
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// probe asks base's /healthz once: ready is a 200 within the period, answered any status within it.
func (r *Readiness) probe(ctx context.Context, base string) (ready, answered bool) {
	pctx, cancel := context.WithTimeout(ctx, r.every)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, base+PathHealthz, nil)
	if err != nil {
		return false, false
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return false, false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK, true
}

// set records one probe's answer, and a change when it differs from the last in readiness or in
// whether the router answered.
func (r *Readiness) set(base string, ready, answered bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.polled[base]++
	if was, seen := r.ready[base]; !seen || was != ready || r.answered[base] != answered {
		r.changes = append(r.changes, Change{Base: base, Ready: ready, Answered: answered, Probe: r.polled[base], At: time.Now()})
	}
	r.ready[base], r.answered[base] = ready, answered
}

// Ready reports whether base answered its last probe 200. It fits OnlyReady.
func (r *Readiness) Ready(base string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready[base]
}

// Polled is how many probes of base have been answered (or failed) so far.
func (r *Readiness) Polled(base string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.polled[base]
}

// Changes returns every readiness change seen so far, in order.
func (r *Readiness) Changes() []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Change(nil), r.changes...)
}

// AwaitReady waits until a probe newer than the call has found base ready, or ctx ends.
func (r *Readiness) AwaitReady(ctx context.Context, base string) error {
	after := r.Polled(base)
	for {
		if r.Polled(base) > after && r.Ready(base) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.every / 2):
		}
	}
}

// Stop ends the polling and waits for the last probe.
func (r *Readiness) Stop() {
	r.stop()
	<-r.done
}
