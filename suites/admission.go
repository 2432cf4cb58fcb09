package suites

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/checks"
)

// The overload run: open-loop Poisson arrivals at overloadFactor times the declared capacity for
// overloadDuration, probe requests in the first traffic class, spread over tenants whose quotas
// carry it. Its ledger is judged by ADM-1, ADM-2, ADM-3 and OUT-4.
const (
	overloadFactor   = 4
	overloadDuration = 3 * time.Second
	// maxShedP99 is ADM-2's bound on time-to-shed.
	maxShedP99 = 50 * time.Millisecond
	// minShed is how many shed responses make a time-to-shed percentile meaningful.
	minShed = 50
	// boundSlack allows for client-side timing: a response in transit still looks in flight.
	boundSlack = 1.1
	// maxGeneratorLag is how late the generator may fall behind its schedule before the load it
	// offered is no longer the load it claims (a validity gate).
	maxGeneratorLag = 250 * time.Millisecond
	// minGoodputFraction is ADM-3's share of declared capacity that must be completed.
	minGoodputFraction = 0.9
)

var _ = Describe("Admission under overload", Ordered, ContinueOnFailure, func() {
	var (
		run      *ledger
		gate     string // why the run is not valid, "" when it is
		bound    int
		rate     float64
		duration time.Duration
	)

	BeforeAll(func(ctx SpecContext) {
		t := env.Target
		class := t.TrafficClasses[0]
		bound = t.Capacity.Concurrency + class.QueueBound
		rate = overloadFactor * t.Capacity.RequestsPerSecond
		keys, ok := loadKeys(rate, bound)
		if !ok {
			gate = "no set of declared tenants has the quota to carry the overload test's load"
			return
		}
		r := rng(5)
		run = openLoop(ctx, "overload", env.Seed, rate, overloadDuration, func(i int) request {
			return request{key: keys[i%len(keys)], class: class.Name, body: probe(prompt(r, 8), t.Capacity.ProbeMaxTokens, false)}
		})
		duration = run.stats.Elapsed
		switch {
		case run.stats.Err != nil:
			gate = run.stats.Err.Error()
		case run.stats.MaxLag > maxGeneratorLag:
			gate = "the load generator fell " + run.stats.MaxLag.String() + " behind its schedule"
		case float64(run.stats.Sent) < 0.9*rate*overloadDuration.Seconds():
			gate = "too few requests were offered"
		}
		evidence("offered %d requests at %.0f/s (%dx the declared %.0f/s) in %s, generator lag %s",
			run.stats.Sent, rate, overloadFactor, t.Capacity.RequestsPerSecond, duration.Round(time.Millisecond), run.stats.MaxLag)
	}, NodeTimeout(overloadDuration+2*time.Minute))

	count := func(c outcome.Class) int {
		return len(run.filter(func(s shot) bool { return s.err == nil && s.res.Outcome == c }))
	}

	It("keeps admitted work within the declared concurrency plus queue bound", Req("ADM-1"), func() {
		if gate != "" {
			invalid("%s", gate)
			return
		}
		admitted := run.filter(func(s shot) bool {
			return s.err == nil && (s.res.Outcome.Served() || s.res.Outcome == outcome.TimedOut)
		})
		peak := checks.MaxOverlap(intervals(admitted))
		evidence("peak admitted in flight %d; declared bound %d (concurrency %d + queue %d); %d completed, %d shed, %d timed out, %d rejected",
			peak, bound, env.Target.Capacity.Concurrency, env.Target.TrafficClasses[0].QueueBound,
			count(outcome.Completed), count(outcome.Shed), count(outcome.TimedOut), count(outcome.Rejected))
		Expect(float64(peak)).To(BeNumerically("<=", boundSlack*float64(bound)+2),
			"admitted work in flight reached %d, above the declared bound of %d: the queue is not bounded as declared", peak, bound)
	})

	It("sheds excess work fast", Req("ADM-2"), func() {
		if gate != "" {
			invalid("%s", gate)
			return
		}
		shed := run.filter(func(s shot) bool { return s.err == nil && s.res.Outcome == outcome.Shed })
		if len(shed) < minShed {
			invalid("only %d shed responses at %dx capacity; at least %d are needed to judge a p99", len(shed), overloadFactor, minShed)
			return
		}
		p99 := checks.Quantile(latencies(shed), 0.99)
		evidence("%d shed, time-to-shed p50 %s, p99 %s (bound %s)", len(shed), checks.Quantile(latencies(shed), 0.5), p99, maxShedP99)
		Expect(p99).To(BeNumerically("<=", maxShedP99), "excess work waited before it was shed")
	})

	It("keeps goodput near the declared capacity", Req("ADM-3"), func() {
		if gate != "" {
			invalid("%s", gate)
			return
		}
		done := run.filter(func(s shot) bool { return s.err == nil && s.res.Outcome.Served() })
		var last time.Time
		first := run.shots[0].res.Start
		for _, s := range done {
			if end := s.res.Start.Add(s.res.Latency); end.After(last) {
				last = end
			}
			if s.res.Start.Before(first) {
				first = s.res.Start
			}
		}
		goodput := float64(len(done)) / last.Sub(first).Seconds()
		evidence("goodput %.1f req/s over %s, declared capacity %.1f req/s", goodput, last.Sub(first).Round(time.Millisecond), env.Target.Capacity.RequestsPerSecond)
		Expect(goodput).To(BeNumerically(">=", minGoodputFraction*env.Target.Capacity.RequestsPerSecond))
	})

	It("tells shed clients when to come back", Req("OUT-4"), func() {
		if gate != "" {
			invalid("%s", gate)
			return
		}
		shed := run.filter(func(s shot) bool { return s.err == nil && s.res.Outcome == outcome.Shed })
		if len(shed) == 0 {
			invalid("nothing was shed at %dx capacity", overloadFactor)
			return
		}
		for _, s := range shed {
			Expect(s.res.RetryAfter).To(BeNumerically(">", 0), "shed without a usable Retry-After: %s", describe(s.res))
		}
		evidence("all %d shed responses carried Retry-After", len(shed))
	})
})
