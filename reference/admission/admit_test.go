package admission

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// Each refusal is its own error, and when several apply the earlier step wins.
func TestAdmitErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    func(*Config)
		setup  func(*testing.T, *harness)
		ctx    func() context.Context
		req    Request
		want   error
		naming string
	}{
		{name: "draining before unknown", setup: func(_ *testing.T, h *harness) { h.c.Drain() },
			req: Request{Tenant: "nobody", Class: interactive}, want: ErrDraining},
		{name: "unknown tenant", req: Request{Tenant: "nobody", Class: interactive},
			want: ErrUnknown, naming: `"nobody"`},
		{name: "unknown class", req: Request{Tenant: acme, Class: "bulk"},
			want: ErrUnknown, naming: `"bulk"`},
		{name: "negative tokens", req: Request{Tenant: acme, Class: interactive, Tokens: -1},
			want: ErrInvalidRequest},
		{name: "deadline already passed", ctx: func() context.Context {
			ctx := newExpiringCtx()
			ctx.expire()
			return ctx
		}, req: req(interactive), want: ErrDeadline},
		{name: "cancelled", ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, req: req(interactive), want: context.Canceled},
		{name: "concurrency before quota",
			cfg:   func(c *Config) { c.Tenants[0].MaxConcurrency, c.Tenants[0].RequestsPerMinute = 1, 60 },
			setup: func(t *testing.T, h *harness) { h.admit(t, req(interactive)) },
			req:   req(interactive), want: ErrConcurrency, naming: `"acme"`},
		{name: "queued waiters count against concurrency",
			cfg: func(c *Config) { c.Tenants[0].MaxConcurrency = 2 },
			setup: func(t *testing.T, h *harness) {
				h.admit(t, req(interactive))
				h.queue(t, context.Background(), req(batch))
			},
			req: req(interactive), want: ErrConcurrency},
		{name: "request quota before queue full",
			cfg: func(c *Config) { c.Tenants[0].RequestsPerMinute, c.Capacity = 60, 0 },
			req: req(interactive),
			setup: func(t *testing.T, h *harness) {
				for range 4 {
					h.clock.advance(refillAt60RPM)
					h.queue(t, context.Background(), req(interactive))
				}
			}, want: ErrQuota, naming: "requests"},
		{name: "token quota", setup: func(t *testing.T, h *harness) {
			h.admit(t, Request{Tenant: acme, Class: interactive, Tokens: 999_000}).Release()
		}, req: Request{Tenant: acme, Class: interactive, Tokens: 2000}, want: ErrQuota, naming: "tokens"},
		{name: "queue full", cfg: func(c *Config) { c.Capacity = 0 }, setup: func(t *testing.T, h *harness) {
			for range 4 {
				h.queue(t, context.Background(), req(batch))
			}
		}, req: req(batch), want: ErrQueueFull, naming: `"batch"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			h := newHarness(t, cfg)
			if tc.setup != nil {
				tc.setup(t, h)
			}
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			ctx, cancel := context.WithTimeout(ctx, testTimeout) // a wrongly queued request fails, not hangs
			defer cancel()
			tk, err := h.c.Admit(ctx, tc.req)
			if tk != nil || !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.naming) {
				t.Fatalf("Admit = %v, %v; want %v naming %s", tk, err, tc.want, tc.naming)
			}
		})
	}
}

func TestPriorityBeforeArrival(t *testing.T) {
	h := newHarness(t, testConfig())
	held := h.admit(t, req(interactive))
	b := h.queue(t, context.Background(), req(batch))
	i := h.queue(t, context.Background(), req(interactive))
	held.Release()
	ti := granted(t, i)
	pending(t, b, "batch waiter while interactive runs")
	ti.Release()
	granted(t, b).Release()
}

// Between classes of equal priority, the earlier arrival goes first.
func TestEqualPriorityInArrivalOrder(t *testing.T) {
	cfg := testConfig()
	cfg.Classes = append(cfg.Classes, ClassSpec{Name: "chat", Priority: 10, QueueCapacity: 4})
	h := newHarness(t, cfg)
	held := h.admit(t, req(interactive))
	first := h.queue(t, context.Background(), req("chat"))
	second := h.queue(t, context.Background(), req(interactive))
	held.Release()
	held = granted(t, first)
	pending(t, second, "later arrival of equal priority")
	held.Release()
	granted(t, second).Release()
}

func TestFIFOWithinClassAndNoQueueJumping(t *testing.T) {
	h := newHarness(t, testConfig())
	held := h.admit(t, req(interactive))
	var waiters []<-chan result
	for range 3 {
		waiters = append(waiters, h.queue(t, context.Background(), req(interactive)))
	}
	for n, w := range waiters {
		held.Release()
		held = granted(t, w)
		for _, later := range waiters[n+1:] {
			pending(t, later, "a later waiter")
		}
	}
	// The slot is still held, so a newcomer queues instead of taking it.
	last := h.queue(t, context.Background(), req(interactive))
	held.Release()
	granted(t, last).Release()
}

func TestReleaseIdempotent(t *testing.T) {
	h := newHarness(t, testConfig())
	held := h.admit(t, req(interactive))
	b := h.queue(t, context.Background(), req(interactive))
	c := h.queue(t, context.Background(), req(interactive))
	held.Release()
	held.Release()
	tb := granted(t, b)
	pending(t, c, "second waiter after a double Release")
	if s := h.c.Snapshot(); s.InFlight != 1 || s.Queued[interactive] != 1 {
		t.Fatalf("snapshot = %+v, want 1 in flight and 1 queued", s)
	}
	tb.Release()
	granted(t, c).Release()
	if q, _ := h.c.Quota(acme); q.InFlight != 0 || q.Queued != 0 {
		t.Fatalf("tenant status = %+v after every release", q)
	}
}

func TestWaited(t *testing.T) {
	h := newHarness(t, testConfig())
	held := h.admit(t, req(interactive))
	if held.Waited() != 0 {
		t.Errorf("immediate ticket waited %v", held.Waited())
	}
	w := h.queue(t, context.Background(), req(interactive))
	h.clock.advance(refillAt60RPM / 4)
	held.Release()
	if got := granted(t, w).Waited(); got != queuedFor {
		t.Errorf("Waited = %v, want %v", got, queuedFor)
	}
}

func TestSetCapacity(t *testing.T) {
	cfg := testConfig()
	cfg.Capacity = 0
	h := newHarness(t, cfg)
	b := h.queue(t, context.Background(), req(batch))
	i1 := h.queue(t, context.Background(), req(interactive))
	i2 := h.queue(t, context.Background(), req(interactive))

	h.c.SetCapacity(2) // growing wakes the two highest-priority waiters at once
	t1, t2 := granted(t, i1), granted(t, i2)
	pending(t, b, "batch waiter")

	h.c.SetCapacity(1) // shrinking revokes nothing
	if s := h.c.Snapshot(); s.Capacity != 1 || s.InFlight != 2 {
		t.Fatalf("after shrink: %+v, want capacity 1 with 2 in flight", s)
	}
	t1.Release()
	pending(t, b, "batch waiter with in-flight at the new capacity")
	t2.Release()
	granted(t, b).Release()
}
