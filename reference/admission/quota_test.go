package admission

import (
	"errors"
	"testing"
	"time"
)

// rateWindow is the simulated window over which the declared rate is measured; with the default
// one-second burst, allowance over it is at most rate*(rateWindow+1s), within 10% of the rate.
const rateWindow = 30 * time.Second

// rateStep is how often the simulated client tries; far more often than the quota allows.
const rateStep = 10 * time.Millisecond

// Over a short window, admitted work matches the declared rate within 10%, per dimension.
func TestQuotaEnforcesDeclaredRate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rpm, tpm int
		tokens   int     // per request
		perSec   float64 // declared rate of the binding dimension, in its units
		unit     float64 // units one admitted request spends in that dimension
	}{
		{"requests", 600, 60_000_000, 1, 10, 1},
		{"tokens", 600_000, 60_000, 100, 1000, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Tenants[0].RequestsPerMinute, cfg.Tenants[0].TokensPerMinute = tc.rpm, tc.tpm
			h := newHarness(t, cfg)
			r := Request{Tenant: acme, Class: interactive, Tokens: tc.tokens}
			ctx := bounded(t)
			var admitted, refused int
			for elapsed := time.Duration(0); elapsed < rateWindow; elapsed += rateStep {
				tk, err := h.c.Admit(ctx, r)
				var qe *QuotaError
				switch {
				case err == nil:
					admitted++
					tk.Release()
				case errors.As(err, &qe) && qe.Dimension == tc.name && qe.RetryAfter > 0:
					refused++
				default:
					t.Fatalf("after %v: %v, want a ticket or a %s QuotaError", elapsed, err, tc.name)
				}
				h.clock.advance(rateStep)
			}
			got := float64(admitted) * tc.unit / rateWindow.Seconds()
			if got < tc.perSec || got > tc.perSec*1.1 {
				t.Errorf("admitted %.1f/s over %v (%d admitted, %d refused), want %v/s within 10%%",
					got, rateWindow, admitted, refused, tc.perSec)
			}
		})
	}
}

func TestQuotaErrorRetryAfter(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].RequestsPerMinute = 60
	h := newHarness(t, cfg)
	h.admit(t, req(interactive)).Release()
	_, err := h.c.Admit(bounded(t), req(interactive))
	var qe *QuotaError
	if !errors.As(err, &qe) || !errors.Is(err, ErrQuota) {
		t.Fatalf("err = %v, want a *QuotaError matching ErrQuota", err)
	}
	want := QuotaError{Tenant: acme, Dimension: DimensionRequests, RetryAfter: refillAt60RPM}
	if *qe != want {
		t.Fatalf("QuotaError = %+v, want %+v", *qe, want)
	}
	h.clock.advance(qe.RetryAfter)
	h.admit(t, req(interactive)).Release()
}

// A request larger than the token bucket can ever hold is refused at once, every time.
func TestTooManyTokensNeverPasses(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].TokensPerMinute = 6000 // burst 100
	h := newHarness(t, cfg)
	before, _ := h.c.Quota(acme)
	ctx := bounded(t)
	for range 3 {
		_, err := h.c.Admit(ctx, Request{Tenant: acme, Class: interactive, Tokens: 101})
		var qe *QuotaError
		if !errors.As(err, &qe) || qe.Dimension != DimensionTokens || qe.RetryAfter != 0 {
			t.Fatalf("err = %v, want a tokens QuotaError with no RetryAfter", err)
		}
		h.clock.advance(time.Minute)
	}
	if after, _ := h.c.Quota(acme); after.RequestsRemaining != before.RequestsRemaining {
		t.Errorf("refused requests spent the request bucket: %v left, want %v",
			after.RequestsRemaining, before.RequestsRemaining)
	}
}

// Work refused for a full queue, or refused by the other bucket, spends no quota.
func TestRefusedWorkSpendsNoQuota(t *testing.T) {
	cfg := testConfig()
	cfg.Capacity = 0
	cfg.Classes[1].QueueCapacity = 1
	cfg.Tenants[0].RequestsPerMinute, cfg.Tenants[0].TokensPerMinute = 600, 60_000 // 10 and 1000
	h := newHarness(t, cfg)
	ctx := bounded(t)
	h.queue(t, ctx, Request{Tenant: acme, Class: interactive, Tokens: 100})
	for range 5 {
		_, err := h.c.Admit(ctx, Request{Tenant: acme, Class: interactive, Tokens: 100})
		if !errors.Is(err, ErrQueueFull) {
			t.Fatalf("err = %v, want ErrQueueFull", err)
		}
	}
	_, err := h.c.Admit(ctx, Request{Tenant: acme, Class: interactive, Tokens: 901})
	if !errors.Is(err, ErrQuota) {
		t.Fatalf("901 tokens with 900 left: %v, want ErrQuota", err)
	}
	if q, _ := h.c.Quota(acme); q.RequestsRemaining != 9 || q.TokensRemaining != 900 {
		t.Errorf("remaining = %v requests, %v tokens; want only the queued request charged (9, 900)",
			q.RequestsRemaining, q.TokensRemaining)
	}
}

// Quota paid by a request that waited and then ran out of time is given back, even though time
// has passed since it was paid.
func TestQuotaRefundedAfterWaiting(t *testing.T) {
	cfg := testConfig()
	cfg.Capacity = 0
	cfg.Tenants[0].RequestsPerMinute, cfg.Tenants[0].TokensPerMinute = 600, 6000 // 10/s, 100/s
	h := newHarness(t, cfg)
	ctx := newExpiringCtx()
	w := h.queue(t, ctx, Request{Tenant: acme, Class: interactive, Tokens: 30})
	h.clock.advance(queuedFor) // refills 2.5 requests and 25 tokens: not enough to mask a lost refund
	ctx.expire()
	if res := await(t, w); !errors.Is(res.err, ErrDeadline) {
		t.Fatalf("err = %v, want ErrDeadline", res.err)
	}
	if q, _ := h.c.Quota(acme); q.RequestsRemaining != 10 || q.TokensRemaining != 100 {
		t.Errorf("remaining = %v requests, %v tokens; want the full buckets (10, 100)",
			q.RequestsRemaining, q.TokensRemaining)
	}
}
