package suites

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// floodExtra is how many requests beyond the declared concurrency plus queue bound the refusal
// flood sends at once: the ones that must be shed.
const floodExtra = 24

// floodWaveGap separates the flood's three waves: the declared concurrency, then the queue bound,
// then floodExtra. Sent all at once, the transport that connects fastest (gRPC's one multiplexed
// connection) would take every slot and queue place, and only the others would ever be shed or
// time out queued; streams that never start could not show how a stream cut by its deadline ends.
const floodWaveGap = 300 * time.Millisecond

// quotaRefusalsPerTransport is how many quota refusals the quota burst collects on each
// transport before it stops: enough that one lucky answer cannot pass for the rule.
const quotaRefusalsPerTransport = 3

// quotaRefill bounds how long the burst's tenant takes to get its quota back, so specs after
// this one find it as declared.
const quotaRefill = 30 * time.Second

// refusalRun is every refusal the outcome specs can provoke on a runtime without a fault, sent
// once on every transport and recorded; OUT-2, OUT-5, OUT-6 and OUT-9 judge it afterwards.
type refusalRun struct {
	class  target.TrafficClass
	tokens int
	itl    time.Duration
	// malformed is bad input; identity is who may not call or in which class; quota the
	// smallest-quota tenant's burst; flood the overload; served a plain call per transport
	// after all the bad input.
	malformed, identity, quota, flood, served []outcomeSample
	// batch is a batch of a served job and bad ones, when the target runs batches; discovery the
	// listing, discovery, batch and operator endpoints, served and refused.
	batch, discovery []outcomeSample
	// gate says why the flood could not be made to judge shed and timed_out (empty when it was);
	// inconclusive when a control failed rather than a validity gate.
	gate         string
	inconclusive bool
	// noDeadline: the class states no deadline, so the runtime has none to time work out at and
	// the flood is not sent (gate says so); what needs a deadline is NOT_SUPPORTED or unprobed.
	noDeadline bool
	quotaGate  string
	// malformedCut says why some bad inputs were not sent (the runtime took the first as work).
	malformedCut string
}

// all is every sample of the run.
func (r *refusalRun) all() []outcomeSample {
	return slices.Concat(r.malformed, r.identity, r.quota, r.flood, r.served, r.batch, r.discovery)
}

// provokeRefusals makes the run: bad input, identity refusals, a quota burst, then the flood.
func provokeRefusals(ctx context.Context) *refusalRun {
	run := &refusalRun{class: env.Target.TrafficClasses[0]}
	run.malformed, run.malformedCut = sendMalformed(ctx)
	run.identity = sendIdentityRefusals(ctx)
	for i, tr := range outcomeTransports() {
		run.served = append(run.served, callOutcome(ctx, outcomeCall{what: "a plain request after the bad input", tenant: tenantA(), transport: tr,
			body: probe(prompt(rng(31+uint64(i)), 6), 2, false)}, patience(run.class.Deadline)))
	}
	if env.Target.Declares("queue") {
		long := strings.Repeat("token ", model().ContextLength+1)
		run.batch = batchOutcomes(ctx, tenantA(), []batchJob{
			{what: "a served job", body: chatJob("Say hi.", 2, nil)},
			{what: "an unknown model", body: chatJob("hi", 1, map[string]any{"model": "arcert-no-such-model"})},
			{what: "max_tokens 0", body: chatJob("hi", 0, nil)},
			{what: "a prompt over the context", body: chatJob(long, 1, nil)},
		})
	}
	for _, p := range discoveryProbes(ctx) {
		run.discovery = append(run.discovery, p.sample)
	}
	var refill func()
	run.quota, run.quotaGate, refill = quotaBurst(ctx)
	// The burst's tenant gets its quota back while the flood runs, unless the flood needs that
	// tenant too: then first, so that the flood is refused for load, not for the spent quota.
	if keys, _ := loadKeys(0, run.floodSize()); slices.Contains(keys, smallestQuota().Key) {
		refill()
		refill = func() {}
	}
	refilled := make(chan struct{})
	go func() {
		defer close(refilled)
		defer GinkgoRecover()
		refill()
	}()
	run.flood = run.overload(ctx)
	<-refilled
	return run
}

// overload sends the declared concurrency plus queue bound plus floodExtra requests in three
// quick waves, each too long to finish within the class deadline, spread over the transports: the
// extra must be shed, the rest must time out, and every answer must arrive within the deadline.
func (r *refusalRun) overload(ctx context.Context) []outcomeSample {
	if !r.class.DeadlineStated() {
		r.gate, r.noDeadline = fmt.Sprintf("class %s states no deadline, so the runtime has none to time work out at", r.class.Name), true
		return nil
	}
	r.itl = typicalITL(ctx)
	if r.itl <= 0 {
		r.gate, r.inconclusive = "could not measure inter-token latency, so no request can be sized to outlast the deadline", true
		return nil
	}
	deadline := r.class.Deadline
	r.tokens = int(math.Min(float64(model().MaxOutputTokens), math.Ceil(2*deadline.Seconds()/r.itl.Seconds())))
	if time.Duration(r.tokens)*r.itl < deadline {
		r.gate, r.inconclusive = fmt.Sprintf("the model's longest output (%d tokens at %s each) finishes before the %s deadline, so timed_out cannot be provoked", r.tokens, r.itl, deadline), true
		return nil
	}
	n := r.floodSize()
	keys, ok := loadKeys(0, n)
	if !ok {
		r.gate = fmt.Sprintf("the declared tenants' concurrency limits cannot hold %d requests at once", n)
		return nil
	}
	byKey := map[string]target.Tenant{}
	for _, t := range env.Target.Tenants {
		byKey[t.Key] = t
	}
	trs := outcomeTransports()
	calls := make([]outcomeCall, n)
	rg := rng(7)
	for i := range calls {
		calls[i] = outcomeCall{what: "overload", tenant: byKey[keys[i%len(keys)]], transport: trs[i%len(trs)], class: r.class.Name,
			body: probe(prompt(rg, 8), r.tokens, false)}
	}
	out := make([]outcomeSample, n)
	waits := env.HTTP.ConnectionWaits()
	defer func() {
		if held := env.HTTP.ConnectionWaits() - waits; held > 0 {
			r.gate = harnessHeld(held, env.HTTP.ConnectionBound())
		}
	}()
	var wg sync.WaitGroup
	slots := env.Target.Capacity.Concurrency
	for i := range calls {
		if i == slots || i == n-floodExtra {
			// Each wave arrives once the one before is running or queued, so that every
			// transport has work that times out running, work that times out queued, and work
			// that must be shed.
			select {
			case <-ctx.Done():
			case <-time.After(floodWaveGap):
			}
		}
		wg.Go(func() { out[i] = callOutcome(ctx, calls[i], patience(deadline)) })
	}
	wg.Wait()
	return out
}

// floodSize is how many requests the flood sends: the declared concurrency, the class's queue
// bound, and floodExtra that must be shed.
func (r *refusalRun) floodSize() int {
	return env.Target.Capacity.Concurrency + r.class.QueueBound + floodExtra
}

// typicalITL measures the median gap between tokens of one unloaded streamed request.
func typicalITL(ctx context.Context) time.Duration {
	res := send(ctx, tenantA().Key, probe("Count slowly.", 16, true), nil)
	if !res.Outcome.Served() || len(res.ITL) == 0 {
		return 0
	}
	return medianDuration(res.ITL)
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// sendIdentityRefusals asks as no one, as an unknown key, as the operator and the workload (who
// may not use the data plane) and in a traffic class the tenant may not use, on every transport
// and on legacy completions.
func sendIdentityRefusals(ctx context.Context) []outcomeSample {
	a := tenantA()
	body := probe("Who am I?", 1, false)
	calls := []outcomeCall{
		{what: "no credential", tenant: a, noKey: true, body: body},
		{what: "an unknown credential", tenant: a, key: "arcert-not-a-key", body: body},
		{what: "an undeclared traffic class", tenant: a, class: "arcert-no-such-class", body: body},
	}
	if op := env.Target.Operator; op != nil && op.Key != "" {
		calls = append(calls, outcomeCall{what: "the operator credential on the data plane", tenant: a, key: op.Key, body: body})
	}
	if wl := env.Target.Workload; wl != nil && wl.Key != "" {
		calls = append(calls, outcomeCall{what: "the workload credential on the data plane", tenant: a, key: wl.Key, body: body})
	}
	for _, t := range env.Target.Tenants {
		for _, k := range env.Target.TrafficClasses {
			if !slices.Contains(t.TrafficClasses, k.Name) {
				calls = append(calls, outcomeCall{what: fmt.Sprintf("tenant %s in class %s, not one of its own", t.Name, k.Name), tenant: t, class: k.Name, body: body})
			}
		}
	}
	var out []outcomeSample
	for _, c := range calls {
		for _, tr := range outcomeTransports() {
			c.transport = tr
			out = append(out, callOutcome(ctx, c, patience(env.Target.TrafficClasses[0].Deadline)))
		}
		// The legacy completions endpoint, a gateway route of its own in many deployments (with
		// its own auth plugin and error helper), must refuse alike.
		c.transport, c.endpoint, c.what = pathHTTP, driver.PathCompletions, c.what+" on "+driver.PathCompletions
		out = append(out, callOutcome(ctx, c, patience(env.Target.TrafficClasses[0].Deadline)))
	}
	return out
}

// quotaBurst sends the smallest-quota tenant's requests back to back, rotating the transports,
// until each transport has seen quotaRefusalsPerTransport quota refusals (or four seconds of its
// quota plus thirty requests have gone). It returns the samples, a gate (why no burst was sent),
// and a wait for the tenant's quota to come back, which the caller runs beside other work.
func quotaBurst(ctx context.Context) ([]outcomeSample, string, func()) {
	t := smallestQuota()
	if t.Quota.RequestsPerMinute <= 0 {
		return nil, "tenant " + t.Name + " states no request quota, so there is none to exceed", func() {}
	}
	perSecond := float64(t.Quota.RequestsPerMinute) / 60
	if perSecond > 0.5*env.Target.Capacity.RequestsPerSecond {
		return nil, "every tenant's request quota is near the runtime's capacity, so a quota refusal cannot be provoked apart from load", func() {}
	}
	class := tenantClass(t)
	before := quotaRemaining(ctx, t)
	trs := outcomeTransports()
	seen := map[string]int{}
	var out []outcomeSample
	rg := rng(37)
	for i := 0; i < int(4*perSecond)+30; i++ {
		s := callOutcome(ctx, outcomeCall{what: "a request of tenant " + t.Name + "'s burst", tenant: t, transport: trs[i%len(trs)],
			body: probe(prompt(rg, 4), 1, false)}, patience(class.Deadline))
		out = append(out, s)
		if s.reason == outcome.ReasonQuotaExceeded {
			seen[s.transport]++
		}
		if len(seen) == len(trs) && slices.IndexFunc(trs, func(tr string) bool { return seen[tr] < quotaRefusalsPerTransport }) < 0 {
			break
		}
	}
	return out, "", func() {
		Eventually(func() float64 { return quotaRemaining(ctx, t) }).WithContext(ctx).WithTimeout(quotaRefill).WithPolling(100*time.Millisecond).
			Should(BeNumerically(">=", before-1), "tenant %s's request quota did not come back after the burst", t.Name)
	}
}

// quotaRemaining is what the tenant may still spend of its request quota at once.
func quotaRemaining(ctx context.Context, t target.Tenant) float64 {
	var q discovery.Quotas
	if getJSON(ctx, discovery.PathQuotas, t.Key, &q) != 200 {
		return 0
	}
	return q.RequestsPerMinute.Remaining
}

// tenantClass is the traffic class a tenant's requests run in by default: its first.
func tenantClass(t target.Tenant) target.TrafficClass {
	for _, k := range env.Target.TrafficClasses {
		if len(t.TrafficClasses) == 0 || k.Name == t.TrafficClasses[0] {
			return k
		}
	}
	return env.Target.TrafficClasses[0]
}
