package admission

import (
	"context"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds every wait in these tests. Tests only wait for it when they fail, so it can
// be generous for -race.
const testTimeout = 5 * time.Second

// Names used by the test configuration.
const (
	interactive = "interactive"
	batch       = "batch"
	acme        = "acme"
)

// testConfig has two classes and one tenant whose quota no test hits unless it lowers it.
func testConfig() Config {
	return Config{
		Classes: []ClassSpec{
			{Name: batch, Priority: 1, QueueCapacity: 4},
			{Name: interactive, Priority: 10, QueueCapacity: 4},
		},
		Tenants: []TenantSpec{
			{Name: acme, RequestsPerMinute: 600_000, TokensPerMinute: 60_000_000, MaxConcurrency: 64},
		},
		Capacity: 1,
	}
}

// clock is a manual clock, so bucket arithmetic and Waited are exact.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is a Controller on a manual clock that reports every enqueue on a channel.
type harness struct {
	c     *Controller
	clock *clock
	enq   chan string // class of each enqueued waiter
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{c: c, clock: &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, enq: make(chan string, 1024)}
	c.now = h.clock.now
	c.onEnqueue = func(class string, _ int) {
		select {
		case h.enq <- class:
		default:
			t.Error("enqueue channel full")
		}
	}
	t.Cleanup(c.Drain) // wakes any waiter a failed test left behind
	return h
}

// result is the outcome of one Admit.
type result struct {
	ticket *Ticket
	err    error
}

// req is a request of acme in class k.
func req(k string) Request { return Request{Tenant: acme, Class: k, Tokens: 1} }

// bounded is a context that ends after testTimeout, so an Admit that wrongly queues fails the
// test instead of hanging it.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// admit calls Admit and fails the test on error.
func (h *harness) admit(t *testing.T, r Request) *Ticket {
	t.Helper()
	ctx := bounded(t)
	tk, err := h.c.Admit(ctx, r)
	if err != nil {
		t.Fatalf("Admit(%+v): %v", r, err)
	}
	return tk
}

// queue starts Admit in a goroutine, waits until it is queued, and returns its result channel.
func (h *harness) queue(t *testing.T, ctx context.Context, r Request) <-chan result {
	t.Helper()
	ch := make(chan result, 1)
	go func() {
		tk, err := h.c.Admit(ctx, r)
		ch <- result{tk, err}
	}()
	select {
	case k := <-h.enq:
		if k != r.Class {
			t.Fatalf("enqueued in %q, want %q", k, r.Class)
		}
	case res := <-ch:
		t.Fatalf("Admit(%+v) returned %v %v, want it queued", r, res.ticket, res.err)
	case <-time.After(testTimeout):
		t.Fatalf("Admit(%+v) was never queued", r)
	}
	return ch
}

// await returns the result of a queued Admit.
func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(testTimeout):
		t.Fatal("queued Admit never returned")
		return result{}
	}
}

// granted waits for a queued Admit and fails unless it got a ticket.
func granted(t *testing.T, ch <-chan result) *Ticket {
	t.Helper()
	res := await(t, ch)
	if res.err != nil {
		t.Fatalf("queued Admit: %v, want a ticket", res.err)
	}
	return res.ticket
}

// pending fails if a queued Admit has already returned.
func pending(t *testing.T, ch <-chan result, what string) {
	t.Helper()
	select {
	case res := <-ch:
		t.Fatalf("%s returned %+v, want it still queued", what, res)
	default:
	}
}

// expiringCtx is a context whose deadline passes when the test says so, so the queued-deadline
// path is exercised deterministically.
type expiringCtx struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newExpiringCtx() *expiringCtx {
	return &expiringCtx{Context: context.Background(), done: make(chan struct{})}
}

func (c *expiringCtx) Done() <-chan struct{} { return c.done }

func (c *expiringCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func (c *expiringCtx) expire() { c.once.Do(func() { close(c.done) }) }

// refillAt60RPM is how long a tenant declared at 60 requests a minute takes to earn one request.
const refillAt60RPM = time.Second

// queuedFor is how long TestWaited keeps a request queued on the manual clock.
const queuedFor = 250 * time.Millisecond
