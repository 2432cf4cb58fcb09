package suites

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
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
	Expect(resp.StatusCode).To(Equal(http.StatusOK), "GET %s", p.Observe)
	Expect(json.NewDecoder(resp.Body).Decode(&seen)).To(Succeed(), "GET %s", p.Observe)
	return seen, true
}

// providerDependency is the first provider the target declares.
func providerDependency() (target.Dependency, bool) {
	for _, d := range env.Target.Dependencies {
		if d.Role == fault.RoleProvider {
			return d, true
		}
	}
	return target.Dependency{}, false
}

// cutAllRegions takes every region down and returns what heals them.
func cutAllRegions() func() error {
	var heals []func() error
	for _, r := range env.Target.Regions {
		if len(env.Chaos.Select(fault.RoleRegion, r.Name)) > 0 {
			heals = append(heals, inject(fault.RoleRegion, r.Name, fault.Fault{Kind: fault.Down}))
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
		confined, hosted target.Tenant
		dep              target.Dependency
		planErr          error
		viaProvider      runResult
		providerDown     runResult
		marks            canaries
	)
	BeforeAll(func(ctx SpecContext) {
		DeferCleanup(noResidue)
		var ok bool
		if dep, ok = providerDependency(); !ok || len(env.Chaos.Select(fault.RoleProvider, "")) == 0 {
			planErr = fmt.Errorf("%w: the target declares no provider dependency to fall back to", errCannotPlan)
			return
		}
		if hosted, planErr = tenantWhere("a tenant allowed hosted fallback", func(t target.Tenant) bool { return t.DataPolicy.HostedFallback }); planErr != nil {
			return
		}
		if confined, planErr = tenantWhere("a tenant that forbids hosted fallback", func(t target.Tenant) bool { return !t.DataPolicy.HostedFallback }); planErr != nil {
			return
		}
		pick := func(r *rand.Rand, i int) loadReq {
			t := []target.Tenant{confined, hosted}[i%2]
			return loadReq{tenant: t, body: probe(prompt(r, 4)+" "+marks.plant(r, t), 4, false)}
		}
		viaProvider = faultRun{name: "all-regions-down", stream: 311, pick: pick,
			inject: func(context.Context) func() error { return cutAllRegions() }}.run(ctx)
		expectRecovery(ctx, viaProvider, confined)
		providerDown = faultRun{name: "all-regions-and-provider-down", stream: 312, pick: pick,
			inject: func(context.Context) func() error {
				regions := cutAllRegions()
				prov := inject(fault.RoleProvider, "", fault.Fault{Kind: fault.Down})
				return func() error { return errors.Join(prov(), regions()) }
			}}.run(ctx)
		expectRecovery(ctx, providerDown, hosted)
	}, NodeTimeout(2*time.Minute))

	judged := func(rr runResult, tenants ...target.Tenant) bool { return judgeable(planErr, rr, tenants...) }

	It("serves the allowed tenant by the provider and says so", Req("FBK-3"), func() {
		if !judged(viaProvider, hosted) {
			return
		}
		var n int
		for _, e := range viaProvider.settled() {
			if e.Tenant != hosted.Name {
				continue
			}
			Expect(e.Outcome).To(Equal(outcome.Rerouted), "request #%d of %s with every region down: %s/%s", e.Seq, e.Tenant, e.Outcome, e.Reason)
			Expect(e.ServedBy.Provider).To(Equal(dep.Name), "request #%d: ARuntime-Served-By %+v", e.Seq, e.ServedBy)
			n++
		}
		evidence("every region down: %d requests of %s served by provider %s, each rerouted and naming it", n, hosted.Name, dep.Name)
	})

	It("never sends a tenant's data to a provider its policy forbids", Req("FBK-2"), func(ctx SpecContext) {
		if !judged(viaProvider, confined) {
			return
		}
		for _, e := range viaProvider.settled() {
			if e.Tenant == confined.Name {
				Expect(e.Outcome).To(Equal(outcome.Rejected), "request #%d of %s: %s/%s", e.Seq, e.Tenant, e.Outcome, e.Reason)
				Expect(e.Reason).To(Equal(outcome.ReasonPolicyForbidsFallback), "request #%d of %s", e.Seq, e.Tenant)
			}
		}
		seen, ok := observe(ctx, dep)
		if !ok {
			evidence("the provider is not observable (no observe URL): only the outcomes were checked")
			return
		}
		var allowedSeen int
		for _, rec := range seen.Records {
			Expect(rec.Tenant).NotTo(Equal(confined.Name), "the provider received a request labelled %s", confined.Name)
			for _, tok := range rec.Canaries {
				owner := marks.ownerOf(tok)
				Expect(owner).NotTo(Equal(confined.Name), "the provider received %s's prompt (canary %s)", confined.Name, tok)
				if owner == hosted.Name {
					allowedSeen++
				}
			}
		}
		if allowedSeen == 0 {
			inconclusive("the provider's record shows none of %s's canaries either, so it cannot show whose data arrived", hosted.Name)
			return
		}
		evidence("the provider saw %d of %s's canaries and none of %s's", allowedSeen, hosted.Name, confined.Name)
	})

	It("refuses in time when the provider is down too, and recovers", Req("FLT-1"), Label("fault:provider"), func(ctx SpecContext) {
		if !judged(providerDown, hosted) {
			return
		}
		expectEveryRequestEnded(ctx, providerDown)
		for _, e := range providerDown.settled() {
			Expect(e.Served()).To(BeFalse(), "request #%d of %s served with every region and the provider down: %+v", e.Seq, e.Tenant, e.ServedBy)
		}
	})
})
