package admission

import (
	"testing"
	"time"
)

// Quota shows what a tenant may spend at once (never more than the burst), and how long its
// buckets take to refill to the burst, both moving as it spends and as time passes.
func TestQuotaStatusShowsBurstAndRefill(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].RequestsPerMinute, cfg.Tenants[0].TokensPerMinute = 600, 60_000 // 10/s, 1000/s
	cfg.Capacity = 8
	h := newHarness(t, cfg)
	check := func(what string, remaining float64, fullIn time.Duration, tokRemaining float64, tokFullIn time.Duration) {
		t.Helper()
		q, ok := h.c.Quota(acme)
		if !ok {
			t.Fatal("acme unknown")
		}
		if q.RequestsBurst != 10 || q.TokensBurst != 1000 {
			t.Fatalf("%s: bursts %d requests, %d tokens; want 10 and 1000", what, q.RequestsBurst, q.TokensBurst)
		}
		if q.RequestsRemaining != remaining || q.RequestsFullIn != fullIn || q.TokensRemaining != tokRemaining || q.TokensFullIn != tokFullIn {
			t.Fatalf("%s: requests %v full in %v, tokens %v full in %v; want %v in %v, %v in %v", what,
				q.RequestsRemaining, q.RequestsFullIn, q.TokensRemaining, q.TokensFullIn, remaining, fullIn, tokRemaining, tokFullIn)
		}
	}
	check("fresh", 10, 0, 1000, 0)
	for range 3 {
		h.admit(t, Request{Tenant: acme, Class: interactive, Tokens: 100}).Release()
	}
	check("after 3 requests of 100 tokens", 7, 300*time.Millisecond, 700, 300*time.Millisecond)
	h.clock.advance(100 * time.Millisecond)
	check("100ms later", 8, 200*time.Millisecond, 800, 200*time.Millisecond)
	h.clock.advance(time.Second)
	check("refilled", 10, 0, 1000, 0)
}
