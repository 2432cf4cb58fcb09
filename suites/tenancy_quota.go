package suites

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/conformance/target"
)

// spoofedSpends is how many spoofed requests one quota sample sends, all at once so that they
// land within a fraction of a second: a small quota's bucket refills slower than they spend it.
const spoofedSpends = 8

// quotaPadWords pads each spoofed request's prompt so that a burst of them spends enough tokens
// to show against a small token quota's refill.
const quotaPadWords = 120

// quotaReading is one tenant's remaining allowance, as /v1/aruntime/quotas states it.
type quotaReading struct{ requests, tokens float64 }

// readQuota reads t's remaining requests and tokens of the minute.
func readQuota(ctx context.Context, t target.Tenant) quotaReading {
	var q discovery.Quotas
	Expect(getJSON(ctx, discovery.PathQuotas, t.Key, &q)).To(Equal(http.StatusOK), "GET quotas as %s", t.Name)
	return quotaReading{requests: q.RequestsPerMinute.Remaining, tokens: q.TokensPerMinute.Remaining}
}

// quotaSample is one burst of requests the caller sent naming the victim, and the two tenants'
// allowances read just before and just after it.
type quotaSample struct {
	via            string
	caller, victim target.Tenant
	// requests were sent; tokens is what their responses reported (prompt plus completion), the
	// least any token quota can have been charged for them.
	requests, tokens int
	took             time.Duration
	cBefore, cAfter  quotaReading
	vBefore, vAfter  quotaReading
}

// spendAsNaming sends spoofedSpends requests over via at once as caller, each with every label of
// victim in every place and content as its prompt, between two readings of both allowances.
func spendAsNaming(ctx context.Context, via string, caller, victim target.Tenant, content string) quotaSample {
	perRequest := reservedTokens(content, 1)
	s := quotaSample{via: via, caller: caller, victim: victim, requests: min(spoofedSpends, max(caller.Quota.MaxConcurrency, 1),
		spendableAtOnce(ctx, caller, perRequest), spendableAtOnce(ctx, victim, perRequest))}
	// Both buckets full enough for every spend: a charge to either must show as a drop, not as a
	// refusal.
	awaitAllowance(ctx, caller, s.requests, perRequest)
	awaitAllowance(ctx, victim, s.requests, perRequest)
	start := time.Now()
	s.cBefore, s.vBefore = readQuota(ctx, caller), readQuota(ctx, victim)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range s.requests {
		wg.Go(func() {
			defer GinkgoRecover()
			sp := labelSpoof{Header: spoofHeaders(victim), User: victim.Name, Salt: victim.Name, Primary: true}
			c := callVia(ctx, via, caller.Key, content, 1, sp)
			mustBeServed(c, "%s's request over %s naming %s", caller.Name, via, victim.Name)
			mu.Lock()
			s.tokens += c.Prompt + c.Completion
			mu.Unlock()
		})
	}
	wg.Wait()
	s.cAfter, s.vAfter = readQuota(ctx, caller), readQuota(ctx, victim)
	s.took = time.Since(start)
	return s
}

// spendableAtOnce is how many requests of about tokens tokens each t may send at once to the
// first router, as its /v1/aruntime/quotas states the buckets and slots it holds (at least 1). A
// runtime whose routers divide a tenant's quota states each router's part, which can be less than
// the declared limits: a burst sized by the declaration would wait for an allowance that router
// never holds. A figure the runtime leaves zero bounds nothing.
func spendableAtOnce(ctx context.Context, t target.Tenant, tokens int) int {
	n := spoofedSpends
	if !env.Target.Declares("quotas") {
		return n
	}
	var q discovery.Quotas
	Expect(getJSON(ctx, discovery.PathQuotas, t.Key, &q)).To(Equal(http.StatusOK), "GET quotas as %s", t.Name)
	if b := int(q.RequestsPerMinute.Burst); b > 0 {
		n = min(n, b)
	}
	if b := int(q.TokensPerMinute.Burst); b > 0 && q.TokensPerMinute.Limit > 0 && tokens > 0 {
		n = min(n, b/tokens)
	}
	// Remaining concurrency is this router's part less what t has in flight there, so an idle
	// tenant's reading is its part.
	if c := int(q.MaxConcurrency.Remaining); q.MaxConcurrency.Limit > 0 && c > 0 {
		n = min(n, c)
	}
	return max(n, 1)
}

// spoofQuotaKind is one of the quotas a spoofed request spends: requests or tokens a minute.
type spoofQuotaKind struct {
	path, name string
	// spent is what the sample spent of it, perMinute a tenant's declared quota, left a reading.
	spent     func(quotaSample) float64
	perMinute func(target.Tenant) int
	left      func(quotaReading) float64
}

var spoofQuotaKinds = []spoofQuotaKind{
	{path: "quota-requests", name: "request quota", spent: func(s quotaSample) float64 { return float64(s.requests) },
		perMinute: func(t target.Tenant) int { return t.Quota.RequestsPerMinute }, left: func(r quotaReading) float64 { return r.requests }},
	{path: "quota-tokens", name: "token quota", spent: func(s quotaSample) float64 { return float64(s.tokens) },
		perMinute: func(t target.Tenant) int { return t.Quota.TokensPerMinute }, left: func(r quotaReading) float64 { return r.tokens }},
}

// judgeQuota judges one kind of quota of a sample: the caller's allowance must have dropped by at
// least what was spent less what the clock let it refill, and the victim's must not have dropped
// by one request's worth. A side whose quota is undeclared, or refills faster than the sample
// could show, is not judged. It returns whether either side was, and says what it saw.
func judgeQuota(s quotaSample, k spoofQuotaKind) bool {
	spent := k.spent(s)
	tolerance := spent / float64(s.requests) // one request's worth: the readings are not instants
	shows := func(t target.Tenant) float64 {
		if k.perMinute(t) == 0 {
			return 0
		}
		return spent - float64(k.perMinute(t))/60*s.took.Seconds() - tolerance
	}
	callerShows, victimShows := shows(s.caller), shows(s.victim)
	cDrop, vDrop := k.left(s.cBefore)-k.left(s.cAfter), k.left(s.vBefore)-k.left(s.vAfter)
	rule := func(least float64, must string) string {
		if least < 1 {
			return "not judged: it refills faster than the spends could show"
		}
		return must
	}
	evidence("%s over %s: %d requests spending %.0f, as %s naming %s, in %s: %s's remaining dropped %.1f (%s), %s's %.1f (%s)",
		k.name, s.via, s.requests, spent, s.caller.Name, s.victim.Name, s.took.Round(time.Millisecond),
		s.caller.Name, cDrop, rule(callerShows, fmt.Sprintf("must drop at least %.1f", callerShows)),
		s.victim.Name, vDrop, rule(victimShows, fmt.Sprintf("must drop less than %.1f", tolerance)))
	if callerShows >= 1 && cDrop < callerShows {
		Fail(fmt.Sprintf("over %s, %d requests %s sent naming %s did not spend %s's %s: its remaining went %.1f -> %.1f, a drop of at least %.1f was due",
			s.via, s.requests, s.caller.Name, s.victim.Name, s.caller.Name, k.name, k.left(s.cBefore), k.left(s.cAfter), callerShows))
	}
	if victimShows >= 1 && vDrop >= tolerance {
		Fail(fmt.Sprintf("over %s, %d requests %s sent naming %s spent %s's %s: its remaining went %.1f -> %.1f",
			s.via, s.requests, s.caller.Name, s.victim.Name, s.victim.Name, k.name, k.left(s.vBefore), k.left(s.vAfter)))
	}
	return callerShows >= 1 || victimShows >= 1
}

// quotaFollowsCredential is TEN-1's quota half. For each pair of tenants of which one has the
// smallest request quota, in both directions, the caller sends requests naming the other in every
// label, and /v1/aruntime/quotas must show the caller's request and token allowances spent and
// the named tenant's untouched. Only what a reading can show is judged (a large quota refills
// within the spends); a quota kind no sample could show is reported as not probed.
//
// Each burst spends the small quota, which must refill before the next, so the bursts take turns
// over the transports (every transport at least once, every pair and direction at least once)
// rather than repeating every pair on every transport: the evidence half already sends every
// label over every transport, and a quota charged to the named tenant shows on any of them.
func quotaFollowsCredential(ctx context.Context, vias []string) {
	small := smallestQuota()
	r := rng(1)
	judgedKinds := map[string]int{}
	type burst struct{ caller, victim target.Tenant }
	// The bursts naming the small quota's tenant come first: they leave its quota full (in a
	// runtime that charges the caller), so only the bursts it sends wait for it to refill.
	var bursts []burst
	for _, o := range otherTenants(small) {
		bursts = append(bursts, burst{o, small})
	}
	for _, o := range otherTenants(small) {
		bursts = append(bursts, burst{small, o})
	}
	for i := range max(len(bursts), len(vias)) {
		b, via := bursts[i%len(bursts)], vias[i%len(vias)]
		s := spendAsNaming(ctx, via, b.caller, b.victim, spoofText(b.victim)+" "+prompt(r, quotaPadWords))
		for _, k := range spoofQuotaKinds {
			if judgeQuota(s, k) {
				judged(k.path+":"+via, 1)
				judgedKinds[k.path]++
			}
		}
	}
	for _, k := range spoofQuotaKinds {
		if judgedKinds[k.path] == 0 {
			notProbed(k.path, "no tenant's quota of this kind refills slowly enough for %d requests to show in /v1/aruntime/quotas", spoofedSpends)
		}
	}
}

// allowanceWait bounds how long a tenancy probe waits for its tenant's own quota to refill. The
// tenancy specs send many requests as every tenant, the smallest quota included, and a refusal
// for the caller's own spent quota would decide nothing about where the tenant comes from.
const allowanceWait = 15 * time.Second

// awaitAllowance waits until t may send requests requests of about tokens tokens each without
// meeting its own quota, as /v1/aruntime/quotas tells it, at every router the target lists: a
// request may go to any of them, and routers that divide a tenant's quota each hold a bucket of
// their own. A target that does not declare quotas has no such endpoint and no quota to wait for:
// the request goes at once.
func awaitAllowance(ctx context.Context, t target.Tenant, requests int, tokens int) {
	if !env.Target.Declares("quotas") {
		return
	}
	routers := len(env.Target.Endpoints.HTTPURLs())
	Eventually(func() bool {
		for i := range routers {
			var q discovery.Quotas
			status, _, err := env.HTTP.At(i).GetJSON(ctx, discovery.PathQuotas, t.Key, &q)
			Expect(err).NotTo(HaveOccurred(), "GET quotas as %s", t.Name)
			Expect(status).To(Equal(http.StatusOK), "GET quotas as %s", t.Name)
			if q.RequestsPerMinute.Remaining < float64(requests) ||
				(q.TokensPerMinute.Limit != 0 && q.TokensPerMinute.Remaining < float64(requests*tokens)) {
				return false
			}
		}
		return true
	}).WithContext(ctx).WithTimeout(allowanceWait).WithPolling(50*time.Millisecond).Should(BeTrue(),
		"%s's own quota did not refill to %d requests at every router within %s", t.Name, requests, allowanceWait)
}

// callAs is callVia as tenant t once t's own quota allows the request.
func callAs(ctx context.Context, via string, t target.Tenant, content string, maxTokens int, sp labelSpoof) labelCall {
	awaitAllowance(ctx, t, 1, reservedTokens(content, maxTokens))
	return callVia(ctx, via, t.Key, content, maxTokens, sp)
}

// reservedTokens over-estimates the tokens a probe of content reserves: every byte a token, plus
// the output.
func reservedTokens(content string, maxTokens int) int { return len(content) + maxTokens }
