package admission

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestSplit: the parts of a limit over 1, 2 or 3 routers sum to the limit exactly, differ by at
// most one, and are at least 1 wherever the limit is at least the number of routers.
func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		limit, of int
		want      []int
	}{
		{1, 1, []int{1}}, {1, 2, []int{1, 0}}, {1, 3, []int{1, 0, 0}},
		{2, 1, []int{2}}, {2, 2, []int{1, 1}}, {2, 3, []int{1, 1, 0}},
		{3, 1, []int{3}}, {3, 2, []int{2, 1}}, {3, 3, []int{1, 1, 1}},
		{80, 1, []int{80}}, {80, 2, []int{40, 40}}, {80, 3, []int{27, 27, 26}},
		{0, 2, []int{0, 0}},
	} {
		sum := 0
		for i, want := range tc.want {
			got := Split(tc.limit, i, tc.of)
			if got != want {
				t.Errorf("Split(%d, %d, %d) = %d, want %d", tc.limit, i, tc.of, got, want)
			}
			if tc.limit >= tc.of && got < 1 {
				t.Errorf("Split(%d, %d, %d) = %d: a limit of at least the routers leaves each at least 1", tc.limit, i, tc.of, got)
			}
			sum += got
		}
		if sum != tc.limit {
			t.Errorf("limit %d over %d routers: parts sum to %d", tc.limit, tc.of, sum)
		}
	}
}

// TestSetShareSplitsEveryLimit: half of two routers enforces half the slots, the queue bounds,
// the tenant's concurrency and both buckets (burst and rate); the quota endpoint still declares
// the tenant's whole concurrency; back to one router, the whole of each.
func TestSetShareSplitsEveryLimit(t *testing.T) {
	cfg := testConfig()
	cfg.Capacity = 8
	cfg.Tenants[0].RequestsPerMinute = 600 // 10/s, burst 10
	h := newHarness(t, cfg)
	c := h.c
	if err := c.SetShare(Share{Index: 1, Of: 2}); err != nil {
		t.Fatal(err)
	}
	if got := c.Snapshot().Capacity; got != 4 {
		t.Errorf("capacity %d under a half share of 8, want 4", got)
	}
	c.SetCapacity(5) // the workers now offer 5: this router's part of it is 2
	if got, st := c.Snapshot().Capacity, c.ShareStatus(); got != 2 || st.DeclaredCapacity != 5 || st.Of != 2 || st.Index != 1 {
		t.Errorf("after SetCapacity(5) router 1 of 2 has %d slots, status %+v; want 2 of declared 5", got, st)
	}
	if got := c.classes[batch].spec.QueueCapacity; got != 2 {
		t.Errorf("batch queue bound %d, want 2 of 4", got)
	}
	q, _ := c.Quota(acme)
	if q.RequestsBurst != 5 || q.MaxConcurrency != 64 {
		t.Errorf("quota %+v: want a burst of 5 (half of 10) and the declared concurrency 64", q)
	}
	if got := c.tenants[acme].spec.MaxConcurrency; got != 32 {
		t.Errorf("enforced concurrency %d, want 32 of 64", got)
	}
	if got := float64(c.tenants[acme].requests.Limit()); got != 5 {
		t.Errorf("request rate %v/s, want 5 (half of 10)", got)
	}
	// The burst is 5: the sixth request at the same instant is refused for quota.
	for i := range 6 {
		tk, err := c.Admit(context.Background(), Request{Tenant: acme, Class: interactive})
		if i < 5 && err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if i == 5 && !errors.Is(err, ErrQuota) {
			t.Fatalf("request 6 within a burst of 5: %v, want ErrQuota", err)
		}
		if tk != nil {
			tk.Release()
		}
	}
	if err := c.SetShare(Share{Index: 0, Of: 1}); err != nil {
		t.Fatal(err)
	}
	if got := c.Snapshot().Capacity; got != 5 {
		t.Errorf("capacity %d alone, want the declared 5", got)
	}
	if got := c.tenants[acme].requests.Burst(); got != 10 {
		t.Errorf("burst %d alone, want the declared 10", got)
	}
}

// TestGrownShareServesWaiters: a waiter queued for lack of a slot is granted one as soon as the
// share grows, without any release.
func TestGrownShareServesWaiters(t *testing.T) {
	cfg := testConfig()
	cfg.Capacity = 2
	h := newHarness(t, cfg)
	if err := h.c.SetShare(Share{Index: 1, Of: 2}); err != nil {
		t.Fatal(err)
	}
	first, err := h.c.Admit(context.Background(), Request{Tenant: acme, Class: interactive})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	done := make(chan error, 1)
	go func() {
		tk, err := h.c.Admit(context.Background(), Request{Tenant: acme, Class: interactive})
		if tk != nil {
			defer tk.Release()
		}
		done <- err
	}()
	<-h.enq // queued behind the one slot of its half
	if err := h.c.SetShare(Share{Index: 0, Of: 1}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiter after the share grew: %v", err)
	}
}

// TestSetShareRejectsNonsense: an index outside the routers is an error naming the share.
func TestSetShareRejectsNonsense(t *testing.T) {
	c, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Share{{0, 0}, {2, 2}, {-1, 1}} {
		if err := c.SetShare(s); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("SetShare(%+v) = %v, want ErrInvalidConfig", s, err)
		}
	}
}

// TestSplitBurstBelowRouters: a tenant whose burst is smaller than the number of routers (60
// requests a minute, burst 1, over 2 routers) is not refused outright at the router whose part
// would be 0: every router keeps a burst of 1 and an equal part of the rate, so the rates still
// sum to the declared one and the bursts exceed the declared one by at most routers - 1. Every
// refusal says when to retry.
func TestSplitBurstBelowRouters(t *testing.T) {
	cfg := testConfig()
	cfg.Capacity = 8
	cfg.Tenants[0].RequestsPerMinute = 60 // 1/s, burst 1
	for _, s := range []Share{{Index: 0, Of: 2}, {Index: 1, Of: 2}} {
		h := newHarness(t, cfg)
		c := h.c
		if err := c.SetShare(s); err != nil {
			t.Fatal(err)
		}
		if b, r := c.tenants[acme].requests.Burst(), float64(c.tenants[acme].requests.Limit()); b != 1 || r != 0.5 {
			t.Errorf("router %d of 2: burst %d rate %v/s, want burst 1 and half the declared 1/s", s.Index, b, r)
		}
		tk, err := c.Admit(context.Background(), Request{Tenant: acme, Class: interactive})
		if err != nil {
			t.Fatalf("router %d of 2 refused the tenant's first request: %v", s.Index, err)
		}
		tk.Release()
		_, err = c.Admit(context.Background(), Request{Tenant: acme, Class: interactive})
		var qe *QuotaError
		if !errors.As(err, &qe) || qe.RetryAfter <= 0 {
			t.Fatalf("router %d of 2, second request at once: %v, want a quota refusal with a retry-after", s.Index, err)
		}
	}
}

// TestSplitRefusalsQuoteThePart: under a split, a refusal states this router's part of the limit
// and the declared limit, not the part as if it were the limit.
func TestSplitRefusalsQuoteThePart(t *testing.T) {
	cfg := testConfig()
	cfg.Capacity = 8
	cfg.Tenants[0].MaxConcurrency = 2
	h := newHarness(t, cfg)
	if err := h.c.SetShare(Share{Index: 1, Of: 2}); err != nil {
		t.Fatal(err)
	}
	tk, err := h.c.Admit(context.Background(), Request{Tenant: acme, Class: interactive})
	if err != nil {
		t.Fatal(err)
	}
	defer tk.Release()
	_, err = h.c.Admit(context.Background(), Request{Tenant: acme, Class: interactive})
	if !errors.Is(err, ErrConcurrency) || !strings.Contains(err.Error(), "has 1 of this router's part 1 of the declared 2") {
		t.Fatalf("second request over a part of 1 of 2: %v, want a concurrency refusal naming the part and the declared 2", err)
	}
}
