package suites

import (
	"net/http"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/conformance/report"
	"github.com/aruntime/arcert/conformance/target"
)

// The Runtime Decision Record is itself a requirement of the guidance. These specs check the
// record (the schema already refused a record with an empty decision) and then hold the runtime
// to it wherever the runtime reports the same thing: the prices its evidence bills at, the regions
// and pools its workers report and serve from. What the runtime cannot report (the placement
// decisions' reasoning, the control and evidence locations) stays checked from the declaration,
// and the messages say so.

// maxCostRounding is how far, in micro-USD, a billed cost may differ from tokens times the
// declared prices: one unit either way for integer rounding.
const maxCostRounding = 1

// costPromptWords and costMaxTokens size QUO-4's billing probes.
const (
	costPromptWords = 300
	costMaxTokens   = 16
)

// declaredCost is what rec's tokens cost at the model's declared prices, and whether rec's billed
// cost is that, give or take maxCostRounding.
func declaredCost(rec discovery.Record) (want int64, ok bool) {
	m := model()
	want = (int64(rec.Tokens.Prompt)*m.PromptPricePer1K + int64(rec.Tokens.Completion)*m.CompletionPricePer1K) / 1000
	return want, rec.CostMicroUSD >= want-maxCostRounding && rec.CostMicroUSD <= want+maxCostRounding
}

var _ = Describe("Runtime Decision Record", func() {
	It("records capacity, quotas, prices and every placement decision, and bills at the declared prices", Req("QUO-4"), func(ctx SpecContext) {
		t := env.Target
		Expect(t.Capacity.Concurrency).To(BeNumerically(">", 0), "the record declares no concurrency")
		Expect(t.Capacity.RequestsPerSecond).To(BeNumerically(">", 0), "the record declares no request rate")
		for _, tn := range t.Tenants {
			Expect(tn.Quota.RequestsPerMinute).To(BeNumerically(">", 0), "the record declares no request quota for %s", tn.Name)
			Expect(tn.Quota.TokensPerMinute).To(BeNumerically(">", 0), "the record declares no token quota for %s", tn.Name)
		}
		for _, m := range t.Models {
			Expect(m.PromptPricePer1K+m.CompletionPricePer1K).To(BeNumerically(">", 0), "the record states no price for model %s", m.Name)
		}
		p := t.Placement
		for name, d := range map[string]target.Decision{
			"capacity and quota": p.CapacityAndQuota, "fabric topology": p.FabricTopology, "multi-tenancy": p.MultiTenancy,
			"autoscaling lag": p.AutoscalingLag.Decision, "cost attribution": p.CostAttribution, "provider and region failure": p.ProviderAndRegionFailure,
		} {
			Expect(d.Constraint).NotTo(BeEmpty(), "the %s decision states no constraint", name)
			Expect(d.Assumption).NotTo(BeEmpty(), "the %s decision states no assumption", name)
			Expect(d.TradeOff).NotTo(BeEmpty(), "the %s decision states no trade-off", name)
		}
		judged(report.DeclarationPath, 6)
		notProbed("capacity", "checked from the declaration here; ADM-1 to ADM-3 hold the runtime to it under load")
		notProbed("placement", "the six decisions' constraints, assumptions and trade-offs are checked from the declaration")
		evidence("checked from the declaration: capacity %d concurrent, %.0f req/s; quotas of %d tenants; six placement decisions", t.Capacity.Concurrency, t.Capacity.RequestsPerSecond, len(t.Tenants))
		// The cost assumption against the runtime: every tenant's evidence bills its tokens at
		// the declared prices.
		m := model()
		r := rng(15)
		for _, tn := range t.Tenants {
			// A prompt of some hundreds of tokens, so a price off by a few percent moves the bill by
			// more than rounding.
			res := sendServable(ctx, tn.Key, probe(prompt(r, costPromptWords), costMaxTokens, false), nil)
			Expect(res.Outcome.Served()).To(BeTrue(), "%s was not served: %s", tn.Name, describe(res))
			rec := evidenceFor(ctx, tn.Key, res.RequestID)[0]
			want, ok := declaredCost(rec)
			mustHold(ok,
				"%s was billed %d micro-USD for %d prompt and %d completion tokens; the record's prices (%d and %d per 1,000) make %d",
				tn.Name, rec.CostMicroUSD, rec.Tokens.Prompt, rec.Tokens.Completion, m.PromptPricePer1K, m.CompletionPricePer1K, want)
			mustHold(rec.Tokens.Prompt == res.Usage.PromptTokens, "%s's evidence counts %d prompt tokens; the response said %d", tn.Name, rec.Tokens.Prompt, res.Usage.PromptTokens)
			judged("cost:"+tn.Name, 1)
			evidence("%s billed %d micro-USD for %d+%d tokens, as the declared prices make", tn.Name, rec.CostMicroUSD, rec.Tokens.Prompt, rec.Tokens.Completion)
		}
	}, SpecTimeout(specTimeout))

	It("documents the control, execution, data and evidence locations, and the runtime runs where documented", Req("DOC-1"), func(ctx SpecContext) {
		t := env.Target
		l := t.Locations
		Expect([]string{l.Control, l.Execution, l.Data, l.Evidence}).NotTo(ContainElement(BeEmpty()), "a location is not documented")
		judged(report.DeclarationPath, 4)
		notProbed("control", "checked from the declaration: the contract has no way for a runtime to report where its control plane runs")
		notProbed("evidence", "checked from the declaration: the contract has no way for a runtime to report where its evidence is kept")
		evidence("checked from the declaration: control: %s; evidence: %s", l.Control, l.Evidence)
		// Execution: every worker the runtime reports runs in a declared region and pool that the
		// execution location names, and every declared region has a worker.
		var versions discovery.Versions
		Expect(getJSON(ctx, discovery.PathVersions, tenantA().Key, &versions)).To(Equal(http.StatusOK), "the runtime does not report its workers")
		Expect(versions.Workers).NotTo(BeEmpty(), "no worker reports where it runs")
		seen := map[string]bool{}
		for _, w := range versions.Workers {
			r, ok := declaredRegion(w.Region)
			mustHold(ok, "worker %s runs in region %q, which the record does not declare", w.Worker, w.Region)
			mustHold(slices.Contains(r.Pools, w.Pool), "worker %s runs in pool %q, which the record does not declare in %s", w.Worker, w.Pool, w.Region)
			mustHold(strings.Contains(l.Execution, w.Region), "worker %s runs in %s, which the documented execution location does not name", w.Worker, w.Region)
			seen[w.Region] = true
			judged("worker:"+w.Worker, 1)
		}
		for _, r := range t.Regions {
			mustHold(seen[r.Name], "the record declares region %s, where the runtime reports no worker", r.Name)
		}
		// Data: where each tenant's request was served is a place the data location names.
		for _, tn := range t.Tenants {
			res := sendServable(ctx, tn.Key, probe("where is my data? "+tn.Name, 1, false), nil)
			Expect(res.Outcome.Served()).To(BeTrue(), "%s was not served: %s", tn.Name, describe(res))
			Expect(res.ServedBy.Region).NotTo(BeEmpty(), "%s's answer does not say where it was served", tn.Name)
			mustHold(strings.Contains(l.Data, res.ServedBy.Region), "%s was served in %s, which the documented data location does not name", tn.Name, res.ServedBy.Region)
			judged("tenant:"+tn.Name, 1)
		}
		evidence("execution: %d workers in %s, as documented; data: every tenant served where documented", len(versions.Workers), strings.Join(regionNames(), ", "))
	}, SpecTimeout(specTimeout))
})

// declaredRegion is the declared region called name.
func declaredRegion(name string) (target.Region, bool) {
	i := slices.IndexFunc(env.Target.Regions, func(r target.Region) bool { return r.Name == name })
	if i < 0 {
		return target.Region{}, false
	}
	return env.Target.Regions[i], true
}

// regionNames are the declared regions' names.
func regionNames() []string {
	var out []string
	for _, r := range env.Target.Regions {
		out = append(out, r.Name)
	}
	return out
}
