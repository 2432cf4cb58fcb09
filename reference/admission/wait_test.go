package admission

import (
	"context"
	"errors"
	"testing"
)

func TestDrain(t *testing.T) {
	h := newHarness(t, testConfig())
	held := h.admit(t, req(interactive))
	before, _ := h.c.Quota(acme)
	waiters := []<-chan result{
		h.queue(t, context.Background(), req(interactive)),
		h.queue(t, context.Background(), req(batch)),
	}
	h.c.Drain()
	for _, w := range waiters {
		if res := await(t, w); !errors.Is(res.err, ErrDraining) {
			t.Errorf("queued waiter got %+v, want ErrDraining", res)
		}
	}
	if _, err := h.c.Admit(bounded(t), req(interactive)); !errors.Is(err, ErrDraining) {
		t.Errorf("Admit after Drain: %v, want ErrDraining", err)
	}
	if after, _ := h.c.Quota(acme); after.RequestsRemaining != before.RequestsRemaining {
		t.Errorf("drained waiters spent quota: %v requests left, want %v",
			after.RequestsRemaining, before.RequestsRemaining)
	}
	held.Release() // granted work finishes normally
	if s := h.c.Snapshot(); !s.Draining || s.InFlight != 0 || s.Queued[interactive]+s.Queued[batch] != 0 {
		t.Errorf("snapshot after drain = %+v", s)
	}
}

func TestContextEndsWhileQueued(t *testing.T) {
	for _, tc := range []struct {
		name string
		want []error
	}{
		{"deadline", []error{ErrDeadline, context.DeadlineExceeded}},
		{"cancel", []error{context.Canceled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Capacity = 0
			h := newHarness(t, cfg)
			before, _ := h.c.Quota(acme)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			end := cancel
			qctx := ctx
			if tc.name == "deadline" {
				ec := newExpiringCtx()
				qctx, end = ec, ec.expire
			}
			w := h.queue(t, qctx, req(interactive))
			end()
			res := await(t, w)
			for _, want := range tc.want {
				if !errors.Is(res.err, want) {
					t.Errorf("err = %v, want it to match %v", res.err, want)
				}
			}
			if tc.name == "cancel" && errors.Is(res.err, ErrDeadline) {
				t.Errorf("cancellation reported as a deadline: %v", res.err)
			}
			if s := h.c.Snapshot(); s.Queued[interactive] != 0 {
				t.Errorf("abandoned waiter still queued: %+v", s)
			}
			if q, _ := h.c.Quota(acme); q.Queued != 0 || q.RequestsRemaining != before.RequestsRemaining {
				t.Errorf("tenant after abandon = %+v, want nothing queued or spent", q)
			}
		})
	}
}
