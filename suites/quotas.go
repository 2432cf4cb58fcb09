package suites

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/target"
)

// smallestQuota is the tenant whose request quota is easiest to reach without overloading the
// runtime.
// A tenant that states no request quota (unlimited) is the last choice, never the smallest.
func smallestQuota() target.Tenant {
	best := env.Target.Tenants[0]
	for _, t := range env.Target.Tenants[1:] {
		if t.Quota.Requests() < best.Quota.Requests() {
			best = t
		}
	}
	return best
}

// quotaTenants are the tenants in the order their quotas are measured: the smallest token quota
// first (the quota easiest to spend), then the smallest request quota, then every tenant (the
// caller skips the ones it has seen).
func quotaTenants() []target.Tenant {
	tokens := slices.MinFunc(env.Target.Tenants, func(a, b target.Tenant) int { return cmp.Compare(a.Quota.Tokens(), b.Quota.Tokens()) })
	return append([]target.Tenant{tokens, smallestQuota()}, env.Target.Tenants...)
}

var _ = Describe("Quotas", Ordered, ContinueOnFailure, func() {
	var (
		runs  []*quotaRun
		unmet = map[string]string{} // "tenant:name" → why none of its quotas was measured
		// noOutput says, tenant by tenant, why its token quota could not be spent with output.
		noOutput []string
	)

	BeforeAll(func(ctx SpecContext) {
		seen := map[string]bool{}
		for _, t := range quotaTenants() {
			if seen[t.Name] {
				continue
			}
			seen[t.Name] = true
			var why []string
			plans := []struct {
				kind quotaKind
				plan func(target.Tenant) (*quotaRun, string)
			}{{quotaRequests, planRequestRun}, {quotaTokens, planTokenRun}, {quotaCompletion, planCompletionRun}}
			for _, p := range plans {
				q, reason := p.plan(t)
				switch {
				case q == nil:
				case len(runs) >= quotaRunBudget:
					reason = "the quota runs' time budget was spent on other tenants"
				default:
					runs = append(runs, q)
					continue
				}
				why = append(why, reason)
				if p.kind == quotaCompletion {
					noOutput = append(noOutput, t.Name+": "+reason)
				}
			}
			if len(why) == len(plans) {
				unmet["tenant:"+t.Name] = strings.Join(why, "; ")
			}
		}
		// Every calibration comes before the first run: after a run has spent its tenant's request
		// quota, a calibration request would first wait out the quota's Retry-After.
		perWord := map[string]float64{}
		for _, q := range runs {
			if _, done := perWord[q.tenant.Name]; q.kind != quotaRequests && !done {
				perWord[q.tenant.Name] = tokensPerWord(ctx, q.tenant.Key)
			}
		}
		for i, q := range runs {
			q.execute(ctx, uint64(30+i), perWord[q.tenant.Name])
		}
		evidence("quota runs: %s", describeRuns(runs))
	}, NodeTimeout(quotaRunBudget*completionRunDuration+time.Minute))

	// unmeasured names the quota kinds and tenants no run measured, and says whether any ran.
	unmeasured := func() bool {
		for p, why := range unmet {
			notProbed(p, "%s", why)
		}
		for _, kind := range []quotaKind{quotaRequests, quotaTokens} {
			if !slices.ContainsFunc(runs, func(q *quotaRun) bool { return q.kind == kind }) {
				notProbed(string(kind), "no declared tenant's %s quota can be measured against this runtime's capacity", (&quotaRun{kind: kind}).unit())
			}
		}
		if !slices.ContainsFunc(runs, func(q *quotaRun) bool { return q.kind == quotaCompletion }) {
			notProbed(string(quotaCompletion), "no declared tenant's token quota could be spent with output (%s): a runtime that charges a request's prompt and not what it generates is not seen",
				strings.Join(noOutput, "; "))
		}
		if len(runs) == 0 {
			invalid("no declared tenant has a quota that can be told from load shedding in a run of %s", tokenRunDuration)
			return false
		}
		return true
	}

	It("enforces the declared request and token quotas", Req("QUO-1"), func() {
		if !unmeasured() {
			return
		}
		for _, q := range runs {
			rate, n, estimated := q.measured()
			served := q.measuredEntries()
			evidence("%s, %s: admitted %.2f %s/s after the first %s (%d requests: %s), declared %.2f/s", q.tenant.Name, q.name(), rate, q.unit(), q.warmup, n, byWire(served), q.declared)
			switch {
			case estimated > 0 && q.kind == quotaCompletion:
				evidence("%s: %d served requests of the completion run did not state their prompt or completion tokens; those were counted at %d prompt tokens and the tokens streamed (or %d)", q.tenant.Name, estimated, q.promptTokens, q.maxTokens)
			case estimated > 0:
				evidence("%s: %d served requests of the token run stated no prompt tokens and were counted at the planned %d", q.tenant.Name, estimated, q.promptTokens)
			}
			if short := q.shortCompletions(); q.kind == quotaCompletion && short*10 > n {
				// What was generated is then less than max_tokens, which a runtime may rightly have
				// charged up front: the run cannot tell a right quota from a wrong one.
				notProbed(string(quotaCompletion), "%d of %s's %d measured completions ended before max_tokens %d, so what was charged cannot be told from what was generated",
					short, q.tenant.Name, n, q.maxTokens)
				continue
			}
			if n == 0 && !slices.ContainsFunc(q.run.entries, func(e chaosledger.Entry) bool { return quotaRefusal(e.Outcome, e.Reason) }) {
				// Nothing served and nothing refused for quota: the run says nothing of the quota.
				invalid("%s's %s run served nothing and refused nothing for quota (%s): its quota cannot be measured", q.tenant.Name, q.unit(), scenario.CountsText(q.run.entries))
				return
			}
			mustHold(math.Abs(rate-q.declared)/q.declared <= quotaTolerance,
				"%s was admitted %.2f %s a second against a declared quota of %.2f, off by more than %.0f %%%s", q.tenant.Name, rate, q.unit(), q.declared, 100*quotaTolerance, spentAs(q))
			k := slowestClass(q.tenant)
			late := judgeLateness(q.run.entries, k)
			mustHold(late.ok(), "%s's %s run: outcomes arrived past the deadline of %s plus %s: %s", q.tenant.Name, q.unit(), k.Deadline, deadlineTolerance, late)
			for p, c := range byPath(served) {
				judged(string(q.kind)+":"+p, c)
			}
			judged("tenant:"+q.tenant.Name, n)
		}
	})

	It("refuses over-quota work as rejected/quota_exceeded, not as load", Req("QUO-3"), func() {
		if !unmeasured() {
			return
		}
		for _, q := range runs {
			refused := q.refusals()
			mustHold(len(refused) > 0, "nothing of %s's was refused at %dx its declared %s quota", q.tenant.Name, quotaFactor, q.unit())
			for _, e := range refused {
				mustHold(answered(e), "%s's request over its %s quota reached no outcome: %s", q.tenant.Name, q.unit(), e.Error)
				mustHold(e.Outcome == outcome.Rejected, "%s over its %s quota was answered %s/%s over %s (%s), not rejected/quota_exceeded", q.tenant.Name, q.unit(), e.Outcome, e.Reason, e.Path, quotaAnswer(e))
				mustHold(e.Reason == outcome.ReasonQuotaExceeded, "%s over its %s quota was rejected for %s over %s (%s), not quota_exceeded", q.tenant.Name, q.unit(), e.Reason, e.Path, quotaAnswer(e))
			}
			evidence("%s: %d requests over its %s quota (%s), all rejected/quota_exceeded", q.tenant.Name, len(refused), q.unit(), byWire(refused))
			for p, c := range byPath(refused) {
				judged(string(q.kind)+":"+p, c)
			}
			judged("tenant:"+q.tenant.Name, len(refused))
		}
	})
})

var _ = Describe("Quota visibility", func() {
	It("shows each tenant its own declared quotas, and only its own", Req("QUO-2"), func(ctx SpecContext) {
		for _, t := range env.Target.Tenants {
			var q discovery.Quotas
			Expect(getJSON(ctx, discovery.PathQuotas, t.Key, &q)).To(Equal(http.StatusOK), "%s cannot read its quotas", t.Name)
			mustHold(q.Tenant == t.Name, "the quotas endpoint showed %s the quotas of %q", t.Name, q.Tenant)
			mustHold(q.RequestsPerMinute.Limit == float64(t.Quota.RequestsPerMinute), "%s is shown %.0f requests a minute; the record declares %d", t.Name, q.RequestsPerMinute.Limit, t.Quota.RequestsPerMinute)
			mustHold(q.TokensPerMinute.Limit == float64(t.Quota.TokensPerMinute), "%s is shown %.0f tokens a minute; the record declares %d", t.Name, q.TokensPerMinute.Limit, t.Quota.TokensPerMinute)
			mustHold(q.MaxConcurrency.Limit == float64(t.Quota.MaxConcurrency), "%s is shown a concurrency of %.0f; the record declares %d", t.Name, q.MaxConcurrency.Limit, t.Quota.MaxConcurrency)
			mustHold(sameSet(q.TrafficClasses, t.TrafficClasses), "%s is shown traffic classes %s; the record declares %s", t.Name, strings.Join(q.TrafficClasses, ", "), strings.Join(t.TrafficClasses, ", "))
			evidence("%s sees requests/minute %.0f, tokens/minute %.0f, concurrency %.0f, classes %s", q.Tenant, q.RequestsPerMinute.Limit, q.TokensPerMinute.Limit, q.MaxConcurrency.Limit, strings.Join(q.TrafficClasses, ", "))
			judged("tenant:"+t.Name, 1)
			judged("quota-requests", 1)
			judged("quota-tokens", 1)
			judged("quota-concurrency", 1)
			spoofedQuotaRead(ctx, t)
		}
	}, SpecTimeout(specTimeout))
})

// spoofedQuotaRead asks for t's quotas while naming another tenant in a query parameter and in
// every header a gateway might read it from: the answer must still be t's own.
func spoofedQuotaRead(ctx SpecContext, t target.Tenant) {
	for _, other := range env.Target.Tenants {
		if other.Name == t.Name {
			continue
		}
		var q discovery.Quotas
		status, _, err := env.HTTP.JSON(ctx, http.MethodGet, discovery.PathQuotas+"?tenant="+other.Name, t.Key, nil, spoofHeaders(other), &q)
		Expect(err).NotTo(HaveOccurred(), "GET %s", discovery.PathQuotas)
		if status != http.StatusOK {
			continue // refusing a request that names another tenant is also keeping quotas private
		}
		mustHold(q.Tenant == t.Name, "%s naming %s in the query and headers was shown the quotas of %q", t.Name, other.Name, q.Tenant)
		mustHold(q.TokensPerMinute.Limit == float64(t.Quota.TokensPerMinute), "%s naming %s was shown another token quota than its own", t.Name, other.Name)
		judged("spoof:"+other.Name, 1)
		return
	}
}

// sameSet reports whether a and b hold the same names, in any order.
func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(x string) bool { return !slices.Contains(b, x) })
}

// quotaAnswer names an entry's answer for a message: its HTTP status (none over gRPC) and request id.
func quotaAnswer(e chaosledger.Entry) string {
	if e.Path == viaGRPC {
		return "request " + e.RequestID
	}
	return fmt.Sprintf("status %d, request %s", e.Status, e.RequestID)
}

// spentAs says, after a completion run's failure message, how it spent the quota: a token run's
// and a request run's messages need nothing more.
func spentAs(q *quotaRun) string {
	if q.kind == quotaCompletion {
		return fmt.Sprintf(" (spent as output: prompts of %d words, max_tokens %d)", completionRunWords, q.maxTokens)
	}
	return ""
}
