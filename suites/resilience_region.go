package suites

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/target"
)

// regionPlan is who a primary-region outage is judged on: the primary region, the tenant
// confined to it (its policy forbids every fallback region and hosted fallback), and the tenant
// allowed to move to a fallback region.
type regionPlan struct {
	primary    target.Region
	confined   target.Tenant
	mobile     target.Tenant
	fallbackTo []string
}

// planRegions reads the plan off the target: the first region with a fallback chain.
func planRegions() (regionPlan, error) {
	var p regionPlan
	for _, r := range env.Target.Regions {
		if len(r.FallbackTo) > 0 {
			p.primary, p.fallbackTo = r, r.FallbackTo
			break
		}
	}
	if p.primary.Name == "" {
		return p, fmt.Errorf("%w: no region declares a fallback", errCannotPlan)
	}
	var err error
	p.confined, err = tenantWhere("a tenant confined to "+p.primary.Name, func(t target.Tenant) bool {
		return slices.Contains(t.DataPolicy.AllowedRegions, p.primary.Name) && !t.DataPolicy.HostedFallback &&
			!slices.ContainsFunc(p.fallbackTo, func(r string) bool { return slices.Contains(t.DataPolicy.AllowedRegions, r) })
	})
	if err != nil {
		return p, err
	}
	p.mobile, err = tenantWhere("a tenant allowed to fall back from "+p.primary.Name, func(t target.Tenant) bool {
		return slices.Contains(t.DataPolicy.AllowedRegions, p.primary.Name) &&
			slices.ContainsFunc(p.fallbackTo, func(r string) bool { return slices.Contains(t.DataPolicy.AllowedRegions, r) })
	})
	return p, err
}

// alternate sends the tenants' requests in turn, each a short seeded probe.
func alternate(tenants ...target.Tenant) func(r *rand.Rand, i int) loadReq {
	return func(r *rand.Rand, i int) loadReq {
		return loadReq{tenant: tenants[i%len(tenants)], body: probe(prompt(r, 6), 4, false)}
	}
}

// minSettled is the validity gate on the fault window: each judged tenant needs this many
// requests after the runtime's detection time, or the fault is not shown to have hit traffic.
const minSettled = 5

var _ = Describe("Primary region outage", Serial, Ordered, ContinueOnFailure, Label("fault:region"), func() {
	var (
		plan    regionPlan
		planErr error
		rr      runResult
	)
	BeforeAll(func(ctx SpecContext) {
		DeferCleanup(noResidue)
		if plan, planErr = planRegions(); planErr != nil {
			return
		}
		if len(env.Chaos.Select(fault.RoleRegion, plan.primary.Name)) == 0 {
			planErr = fmt.Errorf("the target declares no region dependency %q to cut", plan.primary.Name)
			return
		}
		rr = faultRun{name: "region-outage", stream: 301, pick: alternate(plan.confined, plan.mobile),
			inject: func(context.Context) func() error {
				return inject(fault.RoleRegion, plan.primary.Name, fault.Fault{Kind: fault.Down})
			},
		}.run(ctx)
		expectRecovery(ctx, rr, plan.confined)
	}, NodeTimeout(time.Minute))

	judged := func() bool { return judgeable(planErr, rr, plan.confined, plan.mobile) }

	It("ends every request in one outcome and recovers", Req("FLT-1"), func(ctx SpecContext) {
		if !judged() {
			return
		}
		expectEveryRequestEnded(ctx, rr)
	})

	It("refuses the confined tenant by policy and moves only the allowed one", Req("FBK-2"), func() {
		if !judged() {
			return
		}
		for _, e := range rr.entries {
			if e.Tenant == plan.confined.Name && e.Served() {
				Expect(plan.confined.DataPolicy.AllowedRegions).To(ContainElement(e.ServedBy.Region),
					"%s's request #%d was served in %s, outside its policy", e.Tenant, e.Seq, e.ServedBy.Region)
				Expect(hostedProviders()).NotTo(ContainElement(e.ServedBy.Provider), "%s's request #%d went to hosted provider %s", e.Tenant, e.Seq, e.ServedBy.Provider)
			}
		}
		var refused, moved int
		for _, e := range rr.settled() {
			switch e.Tenant {
			case plan.confined.Name:
				Expect(e.Outcome).To(Equal(outcome.Rejected), "request #%d of %s during the outage: %s/%s", e.Seq, e.Tenant, e.Outcome, e.Reason)
				Expect(e.Reason).To(Equal(outcome.ReasonPolicyForbidsFallback), "request #%d of %s", e.Seq, e.Tenant)
				refused++
			case plan.mobile.Name:
				Expect(e.Served()).To(BeTrue(), "request #%d of %s during the outage: %s/%s", e.Seq, e.Tenant, e.Outcome, e.Reason)
				Expect(plan.mobile.DataPolicy.AllowedRegions).To(ContainElement(e.ServedBy.Region), "request #%d", e.Seq)
				Expect(e.ServedBy.Region).NotTo(Equal(plan.primary.Name), "request #%d served by the region that is down", e.Seq)
				moved++
			}
		}
		evidence("%s down: %d requests of %s refused with policy_forbids_fallback, %d of %s served in %v", plan.primary.Name, refused, plan.confined.Name, moved, plan.mobile.Name, plan.fallbackTo)
	})

	It("labels the moved work rerouted", Req("OUT-8"), func() {
		if !judged() {
			return
		}
		var rerouted int
		for _, e := range rr.entries {
			if e.Served() && e.ServedBy.Region != "" && e.ServedBy.Region != plan.primary.Name {
				Expect(e.Outcome).To(Equal(outcome.Rerouted), "request #%d served in %s but labelled %s", e.Seq, e.ServedBy.Region, e.Outcome)
				rerouted++
			}
			if e.Served() && e.ServedBy.Region == plan.primary.Name && !slices.Contains(hostedProviders(), e.ServedBy.Provider) {
				Expect(e.Outcome).NotTo(Equal(outcome.Rerouted), "request #%d served where asked but labelled rerouted", e.Seq)
			}
		}
		Expect(rerouted).To(BeNumerically(">=", minSettled), "too little work was moved to judge the labels")
		evidence("%d requests served outside %s, each labelled rerouted with its region in ARuntime-Served-By", rerouted, plan.primary.Name)
	})
})

// hostedProviders are the names of the hosted providers the target declares: a request whose
// ARuntime-Served-By names one of them left the runtime.
func hostedProviders() []string {
	var out []string
	for _, d := range env.Target.Dependencies {
		if d.Role == fault.RoleProvider {
			out = append(out, d.Name)
		}
	}
	return out
}
