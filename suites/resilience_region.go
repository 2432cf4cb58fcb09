package suites

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/target"
)

// regionPlan is who a primary-region outage is judged on: the primary region, every tenant
// confined to it (its policy allows no fallback region and no hosted fallback), and every tenant
// allowed to move (to a fallback region, or to a hosted provider). confined and mobile are the
// first of each.
type regionPlan struct {
	primary     target.Region
	confined    target.Tenant
	mobile      target.Tenant
	confinedAll []target.Tenant
	mobileAll   []target.Tenant
	fallbackTo  []string
}

// tenants are every tenant the plan judges, confined first.
func (p regionPlan) tenants() []target.Tenant { return slices.Concat(p.confinedAll, p.mobileAll) }

// isConfined reports whether the tenant named name is one the outage must refuse.
func (p regionPlan) isConfined(name string) bool {
	return slices.ContainsFunc(p.confinedAll, func(t target.Tenant) bool { return t.Name == name })
}

// planRegions reads the plan off the target: the first region with a fallback chain, and every
// tenant served there, sorted into those that may move and those that may not.
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
	for _, t := range env.Target.Tenants {
		if !slices.Contains(t.DataPolicy.AllowedRegions, p.primary.Name) {
			continue // never served in the primary region, so its outage moves nothing of theirs
		}
		movable := slices.ContainsFunc(p.fallbackTo, func(r string) bool { return slices.Contains(t.DataPolicy.AllowedRegions, r) })
		switch {
		case movable || (t.DataPolicy.HostedFallback && len(hostedProviders()) > 0):
			p.mobileAll = append(p.mobileAll, t) // to a fallback region, or to the provider
		default:
			p.confinedAll = append(p.confinedAll, t)
		}
	}
	if len(p.confinedAll) == 0 {
		return p, fmt.Errorf("%w: no tenant confined to %s", errCannotPlan, p.primary.Name)
	}
	if len(p.mobileAll) == 0 {
		return p, fmt.Errorf("%w: no tenant allowed to fall back from %s", errCannotPlan, p.primary.Name)
	}
	p.confined, p.mobile = p.confinedAll[0], p.mobileAll[0]
	return p, nil
}

// alternate sends the tenants' requests in turn, each a short seeded probe over HTTP.
func alternate(tenants ...target.Tenant) func(r *rand.Rand, i int) loadReq {
	return func(r *rand.Rand, i int) loadReq {
		return loadReq{tenant: tenants[i%len(tenants)], body: probe(prompt(r, 6), 4, false)}
	}
}

// minSettled is the validity gate on the fault window: each judged tenant needs this many
// requests after the runtime's detection time, or the fault is not shown to have hit traffic.
const minSettled = 5

// regionBatchJobs is how many jobs each confined tenant queues during the region outage: queued
// work is the one path where a refusal is not final, so it is where a policy may be forgotten.
const regionBatchJobs = 2

// regionFault is one way of taking the primary region away: the Describe, label and fault run
// it is played as, the requirement its policy judgement counts for, and its injector. FBK-2 cuts
// the region's dependency link (toxiproxy) and also judges FLT-1, OUT-8 and the queued jobs;
// FBK-4 cuts the region's network itself and is judged by the same policy checks.
type regionFault struct {
	describe string
	label    string
	run      string
	stream   uint64
	req      string
	// full adds the queued batches, the FLT-1 outage judgement and the OUT-8 labels.
	full bool
	// prepare says why the fault cannot be put on this target (errCannotPlan), nil when it can.
	prepare func(p regionPlan) error
	// inject puts the fault in force and returns its heal (see holdFault).
	inject func(ctx context.Context, p regionPlan) func() error
}

var _ = describeRegionOutage(regionFault{describe: "Primary region outage", label: "fault:region", run: "region-outage", stream: 301, req: "FBK-2", full: true,
	prepare: func(p regionPlan) error {
		if len(env.Chaos.Select(link.RoleRegion, p.primary.Name)) == 0 {
			return fmt.Errorf("%w: the target declares no region dependency %q to cut", errCannotPlan, p.primary.Name)
		}
		return nil
	},
	inject: func(_ context.Context, p regionPlan) func() error {
		return inject(link.RoleRegion, p.primary.Name, fault.Fault{Kind: fault.Down})
	},
})

// describeRegionOutage declares the specs of one regionFault; it returns true so it can run at
// package initialisation as Describe does.
func describeRegionOutage(rf regionFault) bool {
	return Describe(rf.describe, Serial, Ordered, ContinueOnFailure, Label(rf.label), func() {
		regionOutageSpecs(rf)
	})
}

// regionOutageSpecs is the body of describeRegionOutage.
func regionOutageSpecs(rf regionFault) {
	var (
		plan    regionPlan
		planErr error
		rr      runResult
		batches map[string]string // confined tenant → the batch it queued during the outage
	)
	BeforeAll(func(ctx SpecContext) {
		DeferCleanup(noResidue)
		if plan, planErr = planRegions(); planErr != nil {
			return
		}
		if planErr = rf.prepare(plan); planErr != nil {
			return
		}
		batches = map[string]string{}
		rr = faultRun{name: rf.run, stream: rf.stream, pick: rotate(plan.tenants(), 6, nil),
			inject: func(ctx context.Context) func() error {
				heal := rf.inject(ctx, plan)
				// Queued jobs are tried, refused for now and tried again until the region is
				// back: every try in the outage must keep to the tenant's policy.
				if rf.full && env.Target.Declares("queue") {
					for _, t := range plan.confinedAll {
						batches[t.Name] = queueDuringOutage(ctx, t, "region")
					}
				}
				return heal
			},
		}.run(ctx)
		expectRecovery(ctx, rr, plan.confined)
	}, NodeTimeout(time.Minute))

	judged := func() bool { return judgeable(planErr, rr, plan.tenants()...) }

	if rf.full {
		It("ends every request in one outcome, refuses by policy in time, and recovers", Req("FLT-1"), func(ctx SpecContext) {
			if !judged() {
				return
			}
			judgeOutage(ctx, link.RoleRegion, rr, func(e chaosledger.Entry) outageAnswer {
				if plan.isConfined(e.Tenant) {
					return refuse(outcome.ReasonPolicyForbidsFallback)
				}
				return serve()
			})
		})
	}

	It("refuses every confined tenant by policy on every path, sends its data nowhere else, and moves only the allowed ones", Req(rf.req), func(ctx SpecContext) {
		if !judged() {
			return
		}
		for _, e := range rr.entries {
			if plan.isConfined(e.Tenant) && e.Served() {
				t := tenantNamed(e.Tenant)
				judgeThat(slices.Contains(t.DataPolicy.AllowedRegions, e.ServedBy.Region),
					"%s's request #%d over %s was served in %s, outside its policy", e.Tenant, e.Seq, e.Path, e.ServedBy.Region)
				judgeThat(!slices.Contains(hostedProviders(), e.ServedBy.Provider), "%s's request #%d over %s went to hosted provider %s", e.Tenant, e.Seq, e.Path, e.ServedBy.Provider)
			}
		}
		var refused, moved []chaosledger.Entry
		for _, e := range rr.settled() {
			if plan.isConfined(e.Tenant) {
				judgeThat(string(e.Outcome)+"/"+string(e.Reason) == "rejected/policy_forbids_fallback",
					"request #%d of %s over %s during the %s outage was answered %s/%s, not refused with policy_forbids_fallback", e.Seq, e.Tenant, e.Path, plan.primary.Name, e.Outcome, e.Reason)
				refused = append(refused, e)
				continue
			}
			judgeThat(e.Served(), "request #%d of %s over %s during the outage: %s/%s", e.Seq, e.Tenant, e.Path, e.Outcome, e.Reason)
			judgeThat(slices.Contains(tenantNamed(e.Tenant).DataPolicy.AllowedRegions, e.ServedBy.Region), "request #%d of %s over %s was served in %s, outside its policy", e.Seq, e.Tenant, e.Path, e.ServedBy.Region)
			judgeThat(e.ServedBy.Region != plan.primary.Name, "request #%d of %s over %s served by the region that is down", e.Seq, e.Tenant, e.Path)
			moved = append(moved, e)
		}
		for _, t := range plan.confinedAll {
			if missing := missingPaths(refused, t); len(missing) > 0 {
				invalid("the outage met no request of %s over %s", t.Name, joinComma(missing))
				return
			}
		}
		judgedPaths(rf.req, refused)
		judgedPaths(rf.req, moved)
		// The answers' labels say where each was served, not where else the prompt went: the
		// workers' own records must show no confined tenant's context outside its regions.
		leaks, records := residencyLeaks(ctx, plan.confinedAll)
		judgeProblems("where the confined tenants' data reached", leaks)
		msg := fmt.Sprintf("%s down: %d requests of %s refused with policy_forbids_fallback (%s); %d of %s served in %s; %d worker records outside their regions show none of their context",
			plan.primary.Name, len(refused), tenantNames(plan.confinedAll), pathsText(refused), len(moved), tenantNames(plan.mobileAll), listed(plan.fallbackTo), records)
		if !rf.full {
			// FBK-4 runs no OUT-8: the allowed tenants' moves are judged here, on every wire.
			for _, t := range plan.mobileAll {
				if missing := missingPaths(moved, t); len(missing) > 0 {
					invalid("no request of %s over %s was moved during the cut, so its fallback there is unjudged", t.Name, joinComma(missing))
					return
				}
			}
			judgeProblems("the allowed tenants' requests during the cut", movedProblems(moved, plan.primary.Name))
			evidence("%s; each moved request (%s) labelled rerouted, with content", msg, pathsText(moved))
			return
		}
		if !env.Target.Declares("queue") {
			notProbed("batch-api", "the target declares no batch queue")
			evidence("%s", msg)
			return
		}
		var jobs int
		for _, t := range plan.confinedAll {
			jobs += expectQueuedWithinPolicy(ctx, t, batches[t.Name])
		}
		judgedFor(rf.req, "batch-api", jobs)
		evidence("%s; %d jobs %s queued during the outage were served only where their policies allow", msg, jobs, tenantNames(plan.confinedAll))
	})

	if !rf.full {
		return
	}
	It("labels the moved work rerouted on every path", Req("OUT-8"), func() {
		if !judged() {
			return
		}
		var moved []chaosledger.Entry
		for _, e := range rr.entries {
			if e.Served() && e.ServedBy.Region == plan.primary.Name && !slices.Contains(hostedProviders(), e.ServedBy.Provider) {
				judgeThat(e.Outcome == outcome.Completed, "request #%d of %s over %s was served where asked (%s) but labelled %s/%s",
					e.Seq, e.Tenant, e.Path, e.ServedBy.Region, e.Outcome, e.Reason)
			}
		}
		for _, e := range rr.settled() {
			if plan.isConfined(e.Tenant) {
				continue
			}
			judgeThat(e.Served(), "request #%d of %s over %s during the outage: %s/%s", e.Seq, e.Tenant, e.Path, e.Outcome, e.Reason)
			expectReroutedLabel(e, plan.primary.Name)
			moved = append(moved, e)
		}
		for _, t := range plan.mobileAll {
			if missing := missingPaths(moved, t); len(missing) > 0 {
				invalid("no request of %s over %s was moved during the outage, so its label there is unjudged", t.Name, joinComma(missing))
				return
			}
		}
		judgedPaths("OUT-8", moved)
		notProbed("degraded", "the target declares no fallback model, so nothing of an outage can be served degraded")
		evidence("%d requests of %s served outside %s during its outage, each labelled rerouted with its region in ARuntime-Served-By (%s)",
			len(moved), tenantNames(plan.mobileAll), plan.primary.Name, pathsText(moved))
	})
}

// expectReroutedLabel checks that a request served away from primary says so: rerouted, with the
// reason of the move and the place in its served-by statement.
func expectReroutedLabel(e chaosledger.Entry, primary string) {
	judgeThat(e.Outcome == outcome.Rerouted, "request #%d of %s over %s was served in %s (provider %s) but labelled %s/%s",
		e.Seq, e.Tenant, e.Path, e.ServedBy.Region, e.ServedBy.Provider, e.Outcome, e.Reason)
	judgeThat(slices.Contains([]outcome.Reason{outcome.ReasonRegionFailover, outcome.ReasonPoolFailover, outcome.ReasonProviderFallback}, e.Reason),
		"request #%d of %s over %s is rerouted for reason %s", e.Seq, e.Tenant, e.Path, e.Reason)
	judgeThat(e.ServedBy.Region != "" && e.ServedBy.Region != primary, "request #%d of %s over %s: rerouted but served by %q", e.Seq, e.Tenant, e.Path, e.ServedBy.String())
}

// hostedProviders are the names of the hosted providers the target declares: a request whose
// ARuntime-Served-By names one of them left the runtime.
func hostedProviders() []string {
	var out []string
	for _, d := range env.Target.Dependencies {
		if d.Role == link.RoleProvider {
			out = append(out, d.Name)
		}
	}
	return out
}

// tenantNamed is the declared tenant called name.
func tenantNamed(name string) target.Tenant {
	for _, t := range env.Target.Tenants {
		if t.Name == name {
			return t
		}
	}
	return target.Tenant{Name: name}
}
