package suites

import (
	"math"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/target"
)

// The quota run sends the tenant with the smallest request quota quotaFactor times its declared
// rate for quotaDuration, and measures the served rate after quotaWarmup, once any burst
// allowance is spent: that steady rate is the quota as enforced.
const (
	quotaFactor    = 3
	quotaDuration  = 6 * time.Second
	quotaWarmup    = 2 * time.Second
	quotaTolerance = 0.10
	// minQuotaSamples is how many served requests in the measured window make the rate meaningful.
	minQuotaSamples = 20
)

// smallestQuota is the tenant whose request quota is easiest to reach without overloading the
// runtime.
func smallestQuota() target.Tenant {
	best := env.Target.Tenants[0]
	for _, t := range env.Target.Tenants[1:] {
		if t.Quota.RequestsPerMinute < best.Quota.RequestsPerMinute {
			best = t
		}
	}
	return best
}

var _ = Describe("Quotas", Ordered, ContinueOnFailure, func() {
	var (
		run    *ledger
		tenant target.Tenant
		gate   string
	)

	BeforeAll(func(ctx SpecContext) {
		tenant = smallestQuota()
		declared := float64(tenant.Quota.RequestsPerMinute) / 60
		rate := quotaFactor * declared
		switch {
		case rate > 0.5*env.Target.Capacity.RequestsPerSecond:
			gate = "every tenant's request quota is near the runtime's capacity, so the quota cannot be told from load shedding"
			return
		case declared*(quotaDuration-quotaWarmup).Seconds() < minQuotaSamples:
			gate = "the smallest quota is too low to measure in the run's window"
			return
		}
		r := rng(13)
		run = openLoop(ctx, "quota", env.Seed+3, rate, quotaDuration, func(int) request {
			return request{key: tenant.Key, body: probe(prompt(r, 4), 1, false)}
		})
		evidence("tenant %s, declared %d requests/minute (%.2f/s), offered %.2f/s for %s", tenant.Name, tenant.Quota.RequestsPerMinute, declared, rate, quotaDuration)
	}, NodeTimeout(quotaDuration+time.Minute))

	It("enforces the declared request quota", Req("QUO-1"), func() {
		if gate != "" {
			invalid("%s", gate)
			return
		}
		start := run.shots[0].scheduled
		for _, s := range run.shots {
			if s.scheduled.Before(start) {
				start = s.scheduled
			}
		}
		window := start.Add(quotaWarmup)
		served := len(run.filter(func(s shot) bool { return s.err == nil && s.res.Outcome.Served() && !s.res.Start.Before(window) }))
		measured := float64(served) / (quotaDuration - quotaWarmup).Seconds()
		declared := float64(tenant.Quota.RequestsPerMinute) / 60
		evidence("served %.2f requests/s after the first %s, declared %.2f/s", measured, quotaWarmup, declared)
		Expect(math.Abs(measured-declared)/declared).To(BeNumerically("<=", quotaTolerance),
			"the enforced rate %.2f/s differs from the declared %.2f/s by more than %.0f %%", measured, declared, 100*quotaTolerance)
	})

	It("refuses over-quota work as rejected/quota_exceeded, not as load", Req("QUO-3"), func() {
		if gate != "" {
			invalid("%s", gate)
			return
		}
		refused := run.filter(func(s shot) bool { return s.err == nil && !s.res.Outcome.Served() })
		if len(refused) == 0 {
			Fail("nothing was refused at " + "3x the declared quota")
		}
		for _, s := range refused {
			Expect(s.res.Outcome).To(Equal(outcome.Rejected), "over-quota work was not rejected: %s", describe(s.res))
			Expect(s.res.Reason).To(Equal(outcome.ReasonQuotaExceeded), describe(s.res))
		}
		evidence("%d over-quota requests, all rejected/quota_exceeded", len(refused))
	})
})

var _ = Describe("Quota visibility", func() {
	It("shows each tenant its own declared quotas", Req("QUO-2"), func(ctx SpecContext) {
		for _, t := range env.Target.Tenants[:2] {
			var q discovery.Quotas
			Expect(getJSON(ctx, discovery.PathQuotas, t.Key, &q)).To(Equal(http.StatusOK))
			Expect(q.Tenant).To(Equal(t.Name), "the quotas endpoint showed another tenant")
			Expect(q.RequestsPerMinute.Limit).To(BeNumerically("==", t.Quota.RequestsPerMinute))
			Expect(q.TokensPerMinute.Limit).To(BeNumerically("==", t.Quota.TokensPerMinute))
			Expect(q.MaxConcurrency.Limit).To(BeNumerically("==", t.Quota.MaxConcurrency))
			evidence("%s sees requests/minute %.0f, tokens/minute %.0f, concurrency %.0f", q.Tenant, q.RequestsPerMinute.Limit, q.TokensPerMinute.Limit, q.MaxConcurrency.Limit)
		}
	}, SpecTimeout(specTimeout))
})
