package runtime

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/discovery"
)

// TestRateLimitHeaders: every completion response of a tenant, streamed, plain or refused for its
// quota, carries OpenAI's rate-limit headers, and they follow the tenant's spending: remaining
// falls by one request at a time from the burst, the quota refusal says 0 and when it refills,
// and after the refill the burst is back. /v1/aruntime/quotas tells the same story.
//
// The tenant's 120 requests a minute make a burst of 2 refilling at 2 a second, so a request
// that takes under half a second cannot hide its own spending behind the refill.
func TestRateLimitHeaders(t *testing.T) {
	cfg := devConfig(t)
	for i := range cfg.Tenants {
		if cfg.Tenants[i].Name == "acme" {
			cfg.Tenants[i].Quota.RequestsPerMinute, cfg.Tenants[i].Quota.TokensPerMinute = 120, 3000
		}
	}
	rt := start(t, cfg)
	type limits struct {
		status                 int
		limitReq, remainingReq int
		resetReq               time.Duration
		limitTok, remainingTok int
		resetTok               time.Duration
	}
	read := func(r response) limits {
		t.Helper()
		num := func(h string) int {
			n, err := strconv.Atoi(r.header.Get(h))
			if err != nil {
				t.Fatalf("%s: %q is not a number (status %d, body %s)", h, r.header.Get(h), r.status, r.body)
			}
			return n
		}
		dur := func(h string) time.Duration {
			d, err := time.ParseDuration(r.header.Get(h))
			if err != nil {
				t.Fatalf("%s: %q is not a duration", h, r.header.Get(h))
			}
			return d
		}
		return limits{r.status, num("x-ratelimit-limit-requests"), num("x-ratelimit-remaining-requests"), dur("x-ratelimit-reset-requests"),
			num("x-ratelimit-limit-tokens"), num("x-ratelimit-remaining-tokens"), dur("x-ratelimit-reset-tokens")}
	}
	streamed := chat("spend one", 4)
	streamed["stream"] = true
	first := read(post(t, rt, "/v1/chat/completions", acmeKey, streamed, nil))
	second := read(post(t, rt, "/v1/chat/completions", acmeKey, chat("spend another", 4), nil))
	third := read(post(t, rt, "/v1/chat/completions", acmeKey, chat("one too many", 4), nil))
	t.Logf("first %+v\nsecond %+v\nthird %+v", first, second, third)

	for i, l := range []limits{first, second, third} {
		if l.limitReq != 120 || l.limitTok != 3000 {
			t.Errorf("response %d: limits %d requests, %d tokens; want the declared 120 and 3000", i+1, l.limitReq, l.limitTok)
		}
	}
	if first.status != http.StatusOK || first.remainingReq != 1 || first.resetReq <= 0 || first.resetReq > 500*time.Millisecond {
		t.Errorf("first (streamed) response: %+v; want 200, 1 request left of the burst of 2, full again within 500ms", first)
	}
	if second.status != http.StatusOK || second.remainingReq != 0 || second.resetReq <= first.resetReq {
		t.Errorf("second response: %+v; want 200, 0 left, a later reset than the first's %v", second, first.resetReq)
	}
	if second.remainingTok >= first.remainingTok || first.remainingTok >= 50 || second.resetTok <= 0 {
		t.Errorf("tokens: %d then %d left of a burst of 50, reset %v; want each request's tokens taken", first.remainingTok, second.remainingTok, second.resetTok)
	}
	if third.status != http.StatusTooManyRequests || third.remainingReq != 0 || third.resetReq <= 0 || third.resetReq > time.Second {
		t.Errorf("refused response: %+v; want 429, 0 left, full again within a second", third)
	}

	quotas := func() discovery.Quotas {
		r := get(t, rt, discovery.PathQuotas, acmeKey)
		var q discovery.Quotas
		if err := json.Unmarshal(r.body, &q); err != nil {
			t.Fatalf("quotas %d %s: %v", r.status, r.body, err)
		}
		return q
	}
	if q := quotas().RequestsPerMinute; q.Limit != 120 || q.Burst != 2 || q.Remaining >= 2 || q.ResetSeconds <= 0 {
		t.Errorf("quotas after spending: %+v; want limit 120, burst 2, less than 2 left, a reset ahead", q)
	}
	deadline := time.Now().Add(5 * time.Second)
	for q := quotas().RequestsPerMinute; q.Remaining < q.Burst; q = quotas().RequestsPerMinute {
		if time.Now().After(deadline) {
			t.Fatalf("the request bucket did not refill within 5s: %+v", q)
		}
		time.Sleep(50 * time.Millisecond) // polling the refill the quotas endpoint announces
	}
	if again := read(post(t, rt, "/v1/chat/completions", acmeKey, chat("after the refill", 4), nil)); again.status != http.StatusOK || again.remainingReq != 1 {
		t.Errorf("after the refill: %+v; want 200 with 1 left", again)
	}
}
