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

// spoofQuotaTolerance is how many requests' worth of allowance a quota reading may differ by beyond
// the refill the clock allows: the bucket is read before and after, not at the same instant as
// the spends.
const spoofQuotaTolerance = 1.0

// requestsRemaining reads t's remaining requests of the minute from /v1/aruntime/quotas.
func requestsRemaining(ctx context.Context, t target.Tenant) float64 {
	var q discovery.Quotas
	Expect(getJSON(ctx, discovery.PathQuotas, t.Key, &q)).To(Equal(http.StatusOK), "GET quotas as %s", t.Name)
	return q.RequestsPerMinute.Remaining
}

// spendAsNaming sends spoofedSpends requests over via at once as caller, each with every label of
// victim in every place, and returns how long the spends and the readings around them took.
func spendAsNaming(ctx context.Context, via string, caller, victim target.Tenant, read func()) time.Duration {
	n := min(spoofedSpends, max(caller.Quota.MaxConcurrency, 1))
	// Both buckets full enough for every spend: a charge to either must show as a drop, not as a
	// refusal.
	awaitAllowance(ctx, caller, n, reservedTokens(spoofText(victim), 1))
	awaitAllowance(ctx, victim, n, reservedTokens(spoofText(victim), 1))
	start := time.Now()
	read()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			defer GinkgoRecover()
			sp := labelSpoof{Header: spoofHeaders(victim), User: victim.Name, Salt: victim.Name}
			c := callVia(ctx, via, caller.Key, spoofText(victim), 1, sp)
			mustBeServed(c, "%s's request naming %s", caller.Name, victim.Name)
		})
	}
	wg.Wait()
	read()
	return time.Since(start)
}

// quotaFollowsCredential is TEN-1's quota half. Over each transport, for each pair of tenants of
// which one has the smallest request quota, the caller sends requests naming the other in every
// label, and /v1/aruntime/quotas must show the caller's allowance spent and the named tenant's
// untouched. A side is judged only when its bucket refills slower than the spends could show
// (a large quota refills within the spends, and a reading proves nothing). It returns how many
// pairs it judged.
func quotaFollowsCredential(ctx context.Context, vias []string) int {
	small := smallestQuota()
	var pairs [][2]target.Tenant
	for _, o := range otherTenants(small) {
		pairs = append(pairs, [2]target.Tenant{small, o}, [2]target.Tenant{o, small})
	}
	judgedN := 0
	for _, via := range vias {
		for _, p := range pairs {
			caller, victim := p[0], p[1]
			n := float64(min(spoofedSpends, max(caller.Quota.MaxConcurrency, 1)))
			var cBefore, vBefore, cAfter, vAfter float64
			reads := 0
			took := spendAsNaming(ctx, via, caller, victim, func() {
				c, v := requestsRemaining(ctx, caller), requestsRemaining(ctx, victim)
				if reads == 0 {
					cBefore, vBefore = c, v
				} else {
					cAfter, vAfter = c, v
				}
				reads++
			})
			refill := func(t target.Tenant) float64 { return float64(t.Quota.RequestsPerMinute) / 60 * took.Seconds() }
			callerShows := n - refill(caller) - spoofQuotaTolerance // the least drop the caller's bucket must show
			victimShows := n - refill(victim) - spoofQuotaTolerance
			shows := func(least float64, judgedAs string) string {
				if least < 1 {
					return "refills faster than the spends could show"
				}
				return judgedAs
			}
			evidence("%s: %d requests as %s naming %s in %s: %s's remaining %.1f -> %.1f (%s), %s's %.1f -> %.1f (%s)",
				via, int(n), caller.Name, victim.Name, took.Round(time.Millisecond), caller.Name, cBefore, cAfter, shows(callerShows, fmt.Sprintf("must drop by at least %.1f", callerShows)),
				victim.Name, vBefore, vAfter, shows(victimShows, fmt.Sprintf("must not drop by %.0f or more", spoofQuotaTolerance)))
			judgedPair := false
			if callerShows >= 1 {
				if cBefore-cAfter < callerShows {
					Fail(fmt.Sprintf("over %s, %d requests %s sent naming %s did not spend %s's request quota: its remaining went %.1f -> %.1f, a drop of at least %.1f was due",
						via, int(n), caller.Name, victim.Name, caller.Name, cBefore, cAfter, callerShows))
				}
				judgedPair = true
			}
			if victimShows >= 1 {
				if vBefore-vAfter >= spoofQuotaTolerance {
					Fail(fmt.Sprintf("over %s, %d requests %s sent naming %s spent %s's request quota: its remaining went %.1f -> %.1f",
						via, int(n), caller.Name, victim.Name, victim.Name, vBefore, vAfter))
				}
				judgedPair = true
			}
			if judgedPair {
				judged("quota-requests:"+via, 1)
				judgedN++
			}
		}
	}
	if judgedN == 0 {
		notProbed("quota-requests", "no tenant's request quota refills slowly enough for %d requests to show in /v1/aruntime/quotas", spoofedSpends)
	}
	return judgedN
}

// allowanceWait bounds how long a tenancy probe waits for its tenant's own quota to refill. The
// tenancy specs send many requests as every tenant, the smallest quota included, and a refusal
// for the caller's own spent quota would decide nothing about where the tenant comes from.
const allowanceWait = 15 * time.Second

// awaitAllowance waits until t may send requests requests of about tokens tokens each without
// meeting its own quota, as /v1/aruntime/quotas tells it.
func awaitAllowance(ctx context.Context, t target.Tenant, requests int, tokens int) {
	Eventually(func() bool {
		var q discovery.Quotas
		Expect(getJSON(ctx, discovery.PathQuotas, t.Key, &q)).To(Equal(http.StatusOK), "GET quotas as %s", t.Name)
		return q.RequestsPerMinute.Remaining >= float64(requests) &&
			(q.TokensPerMinute.Limit == 0 || q.TokensPerMinute.Remaining >= float64(requests*tokens))
	}).WithContext(ctx).WithTimeout(allowanceWait).WithPolling(50*time.Millisecond).Should(BeTrue(),
		"%s's own quota did not refill to %d requests within %s", t.Name, requests, allowanceWait)
}

// callAs is callVia as tenant t once t's own quota allows the request.
func callAs(ctx context.Context, via string, t target.Tenant, content string, maxTokens int, sp labelSpoof) labelCall {
	awaitAllowance(ctx, t, 1, reservedTokens(content, maxTokens))
	return callVia(ctx, via, t.Key, content, maxTokens, sp)
}

// reservedTokens over-estimates the tokens a probe of content reserves: every byte a token, plus
// the output.
func reservedTokens(content string, maxTokens int) int { return len(content) + maxTokens }
