package suites

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/target"
)

// canaries plants a seeded canary token in every prompt and remembers whose it was, so what
// reached the hosted provider can be traced to a tenant without the provider recording prompts.
type canaries struct {
	mu    sync.Mutex
	owner map[string]string
}

func (c *canaries) plant(r *rand.Rand, t target.Tenant) string {
	var b [8]byte
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	tok := "arcert-canary-" + hex.EncodeToString(b[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owner == nil {
		c.owner = map[string]string{}
	}
	c.owner[tok] = t.Name
	return tok
}

func (c *canaries) ownerOf(tok string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.owner[tok]
}

// providerSeen is what an observable provider says reached it (the stand-in's /v1/provider/seen).
type providerSeen struct {
	Records []struct {
		Tenant   string   `json:"tenant"`
		Canaries []string `json:"canaries"`
	} `json:"records"`
}

// observe reads the provider's own record of what reached it; ok is false when the target
// declares no way to observe it.
func observe(ctx context.Context, p target.Dependency) (providerSeen, bool) {
	var seen providerSeen
	if p.Observe == "" {
		return seen, false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Observe, nil)
	Expect(err).NotTo(HaveOccurred(), "observe URL %q", p.Observe)
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred(), "GET %s", p.Observe)
	defer func() { _ = resp.Body.Close() }()
	judgeThat(resp.StatusCode == http.StatusOK, "GET %s", p.Observe)
	Expect(json.NewDecoder(resp.Body).Decode(&seen)).To(Succeed(), "GET %s", p.Observe)
	return seen, true
}

// providerDependency is the first provider the target declares.
func providerDependency() (target.Dependency, bool) {
	for _, d := range env.Target.Dependencies {
		if d.Role == link.RoleProvider {
			return d, true
		}
	}
	return target.Dependency{}, false
}

// cutAllRegions takes every region down and returns what heals them.
func cutAllRegions() func() error {
	var heals []func() error
	for _, r := range env.Target.Regions {
		if len(env.Chaos.Select(link.RoleRegion, r.Name)) > 0 {
			heals = append(heals, inject(link.RoleRegion, r.Name, fault.Fault{Kind: fault.Down}))
		}
	}
	return func() error {
		var errs []error
		for _, h := range heals {
			errs = append(errs, h())
		}
		return errors.Join(errs...)
	}
}

var _ = Describe("Every region down: hosted fallback", Serial, Ordered, ContinueOnFailure, Label("fault:region", "fault:provider"), func() {
	var (
		confined, hosted []target.Tenant // every tenant that forbids hosted fallback, every one allowed it
		dep              target.Dependency
		planErr          error
		viaProvider      runResult
		providerDown     runResult
		marks            canaries
		pick             func(r *rand.Rand, i int) loadReq
	)
	BeforeAll(func() {
		DeferCleanup(noResidue)
		var ok bool
		if dep, ok = providerDependency(); !ok || len(env.Chaos.Select(link.RoleProvider, "")) == 0 {
			planErr = fmt.Errorf("%w: the target declares no provider dependency to fall back to", errCannotPlan)
			return
		}
		for _, t := range env.Target.Tenants {
			if t.DataPolicy.HostedFallback {
				hosted = append(hosted, t)
			} else {
				confined = append(confined, t)
			}
		}
		if len(hosted) == 0 || len(confined) == 0 {
			planErr = fmt.Errorf("%w: it needs a tenant allowed hosted fallback and one that forbids it", errCannotPlan)
			return
		}
		pick = rotate(slices.Concat(confined, hosted), 4, marks.plant)
	})

	// The two runs are made when the first spec that judges them runs, so a certification
	// focused on one requirement pays for its own run only.
	var ranVia, ranDown bool
	runVia := func(ctx context.Context) runResult {
		if !ranVia && planErr == nil {
			ranVia = true
			viaProvider = faultRun{name: "all-regions-down", stream: 311, pick: pick,
				inject: func(context.Context) func() error { return cutAllRegions() }}.run(ctx)
			expectRecovery(ctx, viaProvider, confined[0])
		}
		return viaProvider
	}
	runDown := func(ctx context.Context) runResult {
		if !ranDown && planErr == nil {
			ranDown = true
			providerDown = faultRun{name: "all-regions-and-provider-down", stream: 312, pick: pick,
				inject: func(context.Context) func() error {
					regions := cutAllRegions()
					prov := inject(link.RoleProvider, "", fault.Fault{Kind: fault.Down})
					return func() error { return errors.Join(prov(), regions()) }
				}}.run(ctx)
			expectRecovery(ctx, providerDown, hosted[0])
		}
		return providerDown
	}
	judged := func(rr runResult) bool {
		return judgeable(planErr, rr, slices.Concat(confined, hosted)...)
	}
	isHosted := func(name string) bool {
		return slices.ContainsFunc(hosted, func(t target.Tenant) bool { return t.Name == name })
	}
	// servedByProvider are the requests of the tenants allowed hosted fallback after detection.
	servedByProvider := func() []chaosledger.Entry {
		return chaosledger.Where(viaProvider.settled(), func(e chaosledger.Entry) bool { return isHosted(e.Tenant) })
	}

	It("serves every allowed tenant by the provider on every path and says so", Req("FBK-3"), func(ctx SpecContext) {
		if !judged(runVia(ctx)) {
			return
		}
		moved := servedByProvider()
		for _, e := range moved {
			judgeThat(e.Outcome == outcome.Rerouted, "request #%d of %s over %s with every region down: %s/%s", e.Seq, e.Tenant, e.Path, e.Outcome, e.Reason)
			judgeThat(e.ServedBy.Provider == dep.Name, "request #%d of %s over %s: ARuntime-Served-By is %q, without the provider that served it", e.Seq, e.Tenant, e.Path, e.ServedBy.String())
		}
		for _, t := range hosted {
			if missing := missingPaths(moved, t); len(missing) > 0 {
				invalid("no request of %s over %s met the outage", t.Name, joinComma(missing))
				return
			}
		}
		judgedPaths("FBK-3", moved)
		evidence("every region down: %d requests of %s served by provider %s, each rerouted and naming it (%s)", len(moved), tenantNames(hosted), dep.Name, pathsText(moved))
	}, SpecTimeout(time.Minute))

	It("labels the work served by the provider rerouted", Req("OUT-8"), func(ctx SpecContext) {
		if !judged(runVia(ctx)) {
			return
		}
		moved := servedByProvider()
		for _, e := range moved {
			judgeThat(e.Served(), "request #%d of %s over %s with every region down: %s/%s", e.Seq, e.Tenant, e.Path, e.Outcome, e.Reason)
			expectReroutedLabel(e, "")
		}
		judgedFor("OUT-8", "provider", len(moved))
		evidence("%d requests served by the hosted provider, each labelled rerouted", len(moved))
	}, SpecTimeout(time.Minute))

	It("never sends a tenant's data to a provider its policy forbids", Req("FBK-2"), func(ctx SpecContext) {
		if !judged(runVia(ctx)) {
			return
		}
		var refused []chaosledger.Entry
		for _, e := range viaProvider.settled() {
			if !isHosted(e.Tenant) {
				judgeThat(string(e.Outcome)+"/"+string(e.Reason) == "rejected/policy_forbids_fallback", "request #%d of %s over %s with only the provider left was answered %s/%s, not refused with policy_forbids_fallback", e.Seq, e.Tenant, e.Path, e.Outcome, e.Reason)
				refused = append(refused, e)
			}
		}
		for _, e := range viaProvider.entries {
			if !isHosted(e.Tenant) {
				judgeThat(!slices.Contains(hostedProviders(), e.ServedBy.Provider), "%s's request #%d over %s went to hosted provider %s", e.Tenant, e.Seq, e.Path, e.ServedBy.Provider)
			}
		}
		seen, ok := observe(ctx, dep)
		if !ok {
			judgedFor("FBK-2", "provider", len(refused))
			evidence("the provider is not observable (no observe URL): only the outcomes of %d refused requests were checked", len(refused))
			return
		}
		var allowedSeen int
		for _, rec := range seen.Records {
			judgeThat(isHosted(rec.Tenant) || rec.Tenant == "", "the provider received a request labelled %s, whose policy forbids it", rec.Tenant)
			for _, tok := range rec.Canaries {
				owner := marks.ownerOf(tok)
				judgeThat(owner == "" || isHosted(owner), "the provider received %s's prompt (canary %s)", owner, tok)
				if owner != "" {
					allowedSeen++
				}
			}
		}
		if allowedSeen == 0 {
			inconclusive("the provider's record shows none of %s's canaries either, so it cannot show whose data arrived", tenantNames(hosted))
			return
		}
		judgedFor("FBK-2", "provider", len(refused))
		evidence("%d requests of %s refused with only the provider left; the provider saw %d canaries of %s and none of theirs", len(refused), tenantNames(confined), allowedSeen, tenantNames(hosted))
	}, SpecTimeout(time.Minute))

	It("refuses in time, for the outage, when the provider is down too, and recovers", Req("FLT-1"), Label("fault:provider"), func(ctx SpecContext) {
		if !judged(runDown(ctx)) {
			return
		}
		judgeOutage(ctx, link.RoleProvider, providerDown, func(e chaosledger.Entry) outageAnswer {
			if isHosted(e.Tenant) {
				return refuse(outcome.ReasonDependencyUnavailable, outcome.ReasonNoHealthyWorker)
			}
			return refuse(outcome.ReasonPolicyForbidsFallback, outcome.ReasonNoHealthyWorker)
		})
	}, SpecTimeout(time.Minute))
})
