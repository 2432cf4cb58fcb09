package suites

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"

	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/checks"
)

// The class-isolation run floods the second traffic class at overloadFactor times capacity while
// probing the first at probeRate, and judges each class on its own declared objectives: the
// probed class's TTFT and inter-token latency at the 90th percentile (a 95 % upper confidence
// bound), the flooding class's TTFT on the work it admitted, and every outcome of both within its
// class deadline plus deadlineTolerance.
const (
	// probeRate gives about 45 probes in classDuration: a p90 upper bound at 95 % needs at least
	// 29 served, and a Poisson count of 30 expected falls short of that for some seeds.
	probeRate     = 18.0
	classDuration = 2500 * time.Millisecond
	minProbes     = 20
	ttftQuantile  = 0.9
	ttftAlpha     = 0.05
	floodLead     = 500 * time.Millisecond
	// probeTokens is each probe's output: enough tokens for inter-token gaps to measure.
	probeTokens = 4
)

var _ = Describe("Traffic classes", func() {
	It("keeps every class within its objectives while batch floods", Req("ADM-4"), func(ctx SpecContext) {
		t := env.Target
		if len(t.TrafficClasses) < 2 {
			inconclusive("the target declares one traffic class; there is nothing to flood it with")
			return
		}
		protected, flooding := t.TrafficClasses[0], t.TrafficClasses[1]
		rate := overloadFactor * t.Capacity.RequestsPerSecond
		floodKeys, ok := loadKeysOver(classTenants(flooding.Name), rate, t.Capacity.Concurrency+flooding.QueueBound)
		probeKeys, okProbe := loadKeysOver(classTenants(protected.Name), probeRate, 1)
		if !ok || !okProbe {
			invalid("no set of declared tenants has the quota to carry the flood and the probes")
			return
		}
		floodCtx, stopFlood := context.WithCancel(ctx)
		defer stopFlood()
		r := rng(11)
		var batch *loadRun
		floodDone := make(chan struct{})
		go func() {
			defer close(floodDone)
			batch = openLoop(floodCtx, "batch-flood", env.Seed+1, rate, floodLead+classDuration, func(i int) request {
				return request{key: floodKeys[i%len(floodKeys)], class: flooding.Name, body: probe(prompt(r, 8), t.Capacity.ProbeMaxTokens, false)}
			})
		}()
		// The probes start once the flood has had floodLead to fill the runtime: a schedule, not a
		// wait for a condition, since the runtime's fill level is not observable through the contract.
		time.Sleep(floodLead)
		rp := rng(12)
		probes := openLoop(ctx, "interactive-probes", env.Seed+2, probeRate, classDuration, func(i int) request {
			return request{key: probeKeys[i%len(probeKeys)], class: protected.Name, body: probe(prompt(rp, 8), probeTokens, true)}
		})
		// The flood sends for as long as the probes are sent, and then runs its course rather than
		// being cut (a request cancelled by the harness would have no outcome to judge on time):
		// its queued work drains while the last probes are answered.
		<-floodDone

		var ttfts, itls []time.Duration
		failed := 0
		for _, e := range probes.entries {
			if !servedOK(e) {
				failed++
				continue
			}
			ttfts = append(ttfts, e.TTFT)
			itls = append(itls, e.ITL...)
		}
		served := chaosledger.Where(batch.entries, servedOK)
		floodPeak := checks.MaxOverlap(intervals(served))
		var floodTTFT []time.Duration
		for _, e := range served {
			floodTTFT = append(floodTTFT, e.TTFT)
		}
		bound, ok := checks.QuantileUpperBound(ttfts, ttftQuantile, ttftAlpha)
		itlBound, itlOK := checks.QuantileUpperBound(itls, ttftQuantile, ttftAlpha)
		floodBound, floodOK := checks.QuantileUpperBound(floodTTFT, ttftQuantile, ttftAlpha)
		bound, itlBound, floodBound = bound.Round(100*time.Microsecond), itlBound.Round(100*time.Microsecond), floodBound.Round(100*time.Microsecond)
		evidence("%d %s probes (%d not served) during a %.0f req/s %s flood (peak %d served in flight): TTFT p50 %s, p90 %s, p90 upper bound %s (objective %s); ITL p90 %s, upper bound %s (objective %s)",
			len(probes.entries), protected.Name, failed, rate, flooding.Name, floodPeak, checks.Quantile(ttfts, 0.5), checks.Quantile(ttfts, ttftQuantile), bound, protected.TTFT,
			checks.Quantile(itls, ttftQuantile), itlBound, protected.ITL)
		evidence("%d %s requests served during the flood: time to first token p90 %s, upper bound %s (objective %s)",
			len(served), flooding.Name, checks.Quantile(floodTTFT, ttftQuantile), floodBound, flooding.TTFT)
		plotTTFT("TTFT during the "+flooding.Name+" flood against the objectives", ttftOf{protected.Name, ttfts, protected.TTFT}, ttftOf{flooding.Name, floodTTFT, flooding.TTFT})
		if floodPeak < t.Capacity.Concurrency/2 {
			invalid("the %s flood never filled the runtime (peak %d in flight)", flooding.Name, floodPeak)
			return
		}
		if !ok || len(ttfts) < minProbes || !itlOK {
			mustHold(failed == 0, "%d of %d %s probes were refused while only the %s class was flooded", failed, len(probes.entries), protected.Name, flooding.Name)
			invalid("%d served probes are too few to bound a p90", len(ttfts))
			return
		}
		if !floodOK || len(floodTTFT) < minProbes {
			invalid("%d served %s requests are too few to bound a p90", len(floodTTFT), flooding.Name)
			return
		}
		mustHold(bound <= protected.TTFT, "%s TTFT p90 (upper bound %s) exceeds the objective %s", protected.Name, bound, protected.TTFT)
		mustHold(itlBound <= protected.ITL, "%s inter-token latency p90 (upper bound %s) exceeds the objective %s", protected.Name, itlBound, protected.ITL)
		mustHold(floodBound <= flooding.TTFT, "%s work admitted during its flood waited %s (p90 upper bound) for its first token, beyond the objective %s", flooding.Name, floodBound, flooding.TTFT)
		for _, c := range []struct {
			entries []chaosledger.Entry
			name    string
		}{{probes.entries, protected.Name}, {batch.entries, flooding.Name}} {
			k, _ := declaredIn(t.TrafficClasses, c.name)
			late := judgeLateness(c.entries, k)
			mustHold(late.ok(), "%s: outcomes arrived past the class deadline of %s plus %s: %s", k.Name, k.Deadline, deadlineTolerance, late)
		}
		mustHold(failed == 0, "%d of %d %s probes were refused while only the %s class was flooded", failed, len(probes.entries), protected.Name, flooding.Name)
		judged("class:"+protected.Name, len(ttfts))
		judged("class:"+flooding.Name, len(floodTTFT))
	}, SpecTimeout(2*time.Minute))
})
