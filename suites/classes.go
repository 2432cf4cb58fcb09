package suites

import (
	"context"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/checks"
)

// The class-isolation run floods the second traffic class at overloadFactor times capacity while
// probing the first at probeRate, and judges the first class's TTFT against its declared
// objective at the 90th percentile, with a 95 % upper confidence bound.
const (
	probeRate     = 10.0
	classDuration = 3 * time.Second
	minProbes     = 20
	ttftQuantile  = 0.9
	ttftAlpha     = 0.05
	floodLead     = 500 * time.Millisecond
)

var _ = Describe("Traffic classes", func() {
	It("keeps the interactive class within its TTFT objective while batch floods", Req("ADM-4"), func(ctx SpecContext) {
		t := env.Target
		if len(t.TrafficClasses) < 2 {
			inconclusive("the target declares one traffic class; there is nothing to flood it with")
			return
		}
		protected, flooding := t.TrafficClasses[0], t.TrafficClasses[1]
		rate := overloadFactor * t.Capacity.RequestsPerSecond
		keys, ok := loadKeys(rate+probeRate, t.Capacity.Concurrency+flooding.QueueBound)
		if !ok {
			invalid("no set of declared tenants has the quota to carry the flood")
			return
		}
		floodCtx, stopFlood := context.WithCancel(ctx)
		defer stopFlood()
		r := rng(11)
		var batch *ledger
		floodDone := make(chan struct{})
		go func() {
			defer close(floodDone)
			batch = openLoop(floodCtx, "batch-flood", env.Seed+1, rate, classDuration+time.Second, func(i int) request {
				return request{key: keys[i%len(keys)], class: flooding.Name, body: probe(prompt(r, 8), t.Capacity.ProbeMaxTokens, false)}
			})
		}()
		// The probes start once the flood has had floodLead to fill the runtime: a schedule, not a
		// wait for a condition, since the runtime's fill level is not observable through the contract.
		time.Sleep(floodLead)
		rp := rng(12)
		probes := openLoop(ctx, "interactive-probes", env.Seed+2, probeRate, classDuration, func(i int) request {
			return request{key: keys[i%len(keys)], class: protected.Name, body: probe(prompt(rp, 8), 1, true)}
		})
		stopFlood()
		<-floodDone

		var ttfts []time.Duration
		failed := 0
		for _, s := range probes.shots {
			if s.err != nil || !s.res.Outcome.Served() {
				failed++
				continue
			}
			ttfts = append(ttfts, s.res.TTFT)
		}
		floodPeak := checks.MaxOverlap(intervals(batch.filter(func(s shot) bool { return s.err == nil && s.res.Outcome.Served() })))
		bound, ok := checks.QuantileUpperBound(ttfts, ttftQuantile, ttftAlpha)
		evidence("%d interactive probes (%d not served) during a %.0f req/s %s flood (peak %d served in flight): TTFT p50 %s, p90 %s, p90 upper bound %s; objective %s",
			len(probes.shots), failed, rate, flooding.Name, floodPeak, checks.Quantile(ttfts, 0.5), checks.Quantile(ttfts, ttftQuantile), bound, protected.TTFT)
		if floodPeak < t.Capacity.Concurrency/2 {
			invalid("the %s flood never filled the runtime (peak %d in flight)", flooding.Name, floodPeak)
			return
		}
		if !ok || len(ttfts) < minProbes {
			invalid("%d served probes are too few to bound a p90", len(ttfts))
			return
		}
		Expect(failed).To(BeZero(), "interactive probes were refused while only the %s class was flooded", flooding.Name)
		Expect(bound).To(BeNumerically("<=", protected.TTFT), "interactive TTFT p90 (upper bound %s) exceeds the objective %s", bound, protected.TTFT)
	}, SpecTimeout(2*time.Minute))

	It("enforces traffic classes as declared", Req("ADM-5"), func(ctx SpecContext) {
		a := tenantA()
		ok := send(ctx, a.Key, probe("hello", 1, false), http.Header{"Aruntime-Traffic-Class": {a.TrafficClasses[0]}})
		Expect(ok.Outcome.Served()).To(BeTrue(), "a declared class was refused: %s", describe(ok))
		bogus := send(ctx, a.Key, probe("hello", 1, false), http.Header{"Aruntime-Traffic-Class": {"arcert-undeclared-class"}})
		Expect(bogus.Outcome).To(Equal(outcome.Rejected), "an undeclared class was not refused: %s", describe(bogus))
		evidence("declared class %s: %s; undeclared class: %s/%s", a.TrafficClasses[0], ok.Outcome, bogus.Outcome, bogus.Reason)
	}, SpecTimeout(specTimeout))
})
