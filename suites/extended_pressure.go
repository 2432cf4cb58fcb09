package suites

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/conformance/driver"
)

// pressureProbes is how many requests each tenant sends on each client path while every device
// is under pressure: each must be shed with device_pressure, so a runtime that sheds only some of
// them is caught.
const pressureProbes = 4

// sharedTier is the evidence's cache_tier of prompt tokens served from the shared (L2) tier.
const sharedTier = "l2"

// pressureAll puts every worker's device under memory pressure and waits until all report it.
func pressureAll(ctx context.Context) map[string]discovery.DeviceEventResult {
	ids := workerIDs(ctx)
	got := map[string]discovery.DeviceEventResult{}
	for _, id := range ids {
		got[id] = deviceEvent(ctx, id, discovery.DeviceEvent{Kind: discovery.DeviceMemoryPressure})
	}
	var pressed []string
	all := opsPoll(ctx, settle(), 50*time.Millisecond, func() bool {
		pressed = underPressure(ctx)
		return len(pressed) == len(ids)
	})
	opsCheck(all, "within %s of memory pressure on every device, only %d of %d workers report it%s", settle(), len(pressed), len(ids), namedIn(pressed))
	return got
}

var _ = Describe("Device pressure", Serial, func() {
	// Every tenant on every client path: a tenant whose policy allows hosted fallback must be
	// shed like the others, since pressure passes in seconds and no declared policy moves a
	// tenant's data to a provider for it.
	It("follows the declared residency policy and sheds every tenant with device_pressure", Req("FLT-3"), func(ctx SpecContext) {
		DeferCleanup(clearDevices)
		if !devicesSteady(ctx) {
			return
		}
		before := send(ctx, tenantA().Key, probe("served before the pressure?", 2, false), nil)
		opsCheck(before.Outcome.Served(), "before the pressure a request ended %s/%s", before.Outcome, before.Reason)
		l1Before := map[string]int64{}
		for _, w := range versionsNow(ctx) {
			l1Before[w.Worker] = w.L1CapacityBlocks
		}

		results := pressureAll(ctx)
		for id, r := range results {
			evidence("%s under pressure: %d bytes free, resident %s, L1 %d blocks (%d before)", id, r.Device.MemoryFreeBytes, listed(r.ResidentModels), r.L1CapacityBlocks, l1Before[id])
		}
		for _, w := range versionsNow(ctx) {
			// The policy gives up cache before it gives up work: an L1 that kept its size under
			// pressure was not shrunk (a runtime without an L1 reports 0 and is not judged).
			if full := l1Before[w.Worker]; full > 0 {
				opsCheck(w.L1CapacityBlocks < full, "worker %s kept its L1 at %d of %d blocks under pressure", w.Worker, w.L1CapacityBlocks, full)
			}
			judged("worker:"+w.Worker, 1)
			for _, m := range env.Target.Devices.PinnedModels {
				served := false
				for _, a := range w.Artifacts {
					served = served || a.Model == m
				}
				if served {
					opsCheck(slices.Contains(w.ResidentModels, m), "worker %s evicted pinned model %s under pressure", w.Worker, m)
				}
			}
			opsCheck(w.Healthy, "worker %s failed instead of applying its residency policy", w.Worker)
		}

		explainClientPaths(false)
		shed := judgePressureShedding(ctx)
		evidence("every worker under pressure: %s", shed)

		clearDevices(ctx)
		again := opsPoll(ctx, settle(), 50*time.Millisecond, func() bool {
			return send(ctx, tenantA().Key, probe("served after the pressure?", 2, false), nil).Outcome.Served()
		})
		opsCheck(again, "no request was served within %s of the pressure clearing", settle())
	}, SpecTimeout(time.Minute))

	// Every other tenant, on every endpoint and transport, with every label a client can write
	// (A's name and A's own cache_salt as cache_salt, A's user label, tenant headers naming A): a
	// runtime whose isolation holds for the plain prompt but not for a shared cache_salt, or on
	// one route but not the next, leaks only on the paths next to the one probed. A fills each
	// path's prompts over that path, so a route that keys its cache namespace differently (a
	// gRPC door, a legacy gateway route) meets its own entries.
	It("keeps cache isolation when pressure demotes the L1 to the shared tier", Req("TEN-6"), func(ctx SpecContext) {
		DeferCleanup(clearDevices)
		if !devicesSteady(ctx) {
			return
		}
		a := tenantA()
		sets := ten6PromptSets(rng(0x7e6))
		salt := fmt.Sprintf("arcert-ten6-%d", env.Seed)
		for _, set := range sets {
			for _, fill := range []labelSpoof{{}, {Salt: salt}} {
				ten6AsA(ctx, set.path, set.shared, fill)
			}
			ten6AsA(ctx, set.path, set.userOnly, labelSpoof{User: a.User}) // B then names the same user
			ten6AsA(ctx, set.path, set.headerOnly, labelSpoof{})
		}
		if warm := ten6AsA(ctx, sets[0].path, sets[0].shared, labelSpoof{}); warm.Cached == 0 {
			inconclusive("A's repeat over %s before the pressure showed no cached tokens: nothing to demote", sets[0].path)
			return
		}
		pressureAll(ctx)
		clearDevices(ctx)

		// The positive controls: A's repeats on each path, plain and with its own cache_salt, must
		// hit the shared tier, or nothing shows the prefix was demoted there (an L1 that kept it
		// would meet the control without any demotion). They also bring A's prefixes back into use.
		for _, set := range sets {
			for _, own := range []struct {
				name string
				sp   labelSpoof
			}{{"plain", labelSpoof{}}, {"with its cache_salt", labelSpoof{Salt: salt}}} {
				res := ten6AsA(ctx, set.path, set.shared, own.sp)
				opsCheck(res.Served, "A's repeat (%s) over %s after the demotion was not served: %s", own.name, set.path, res.desc)
				tier := ""
				if recs := evidenceFor(ctx, a.Key, res.ID); len(recs) > 0 {
					tier = recs[0].CacheTier
				}
				if res.Cached == 0 || tier != sharedTier {
					inconclusive("A's repeat (%s) over %s after the demotion had %d cached tokens from tier %q, not from %q (positive control): nothing shows the prefix was demoted to the shared tier",
						own.name, set.path, res.Cached, tier, sharedTier)
					return
				}
			}
		}
		n := judgeDemotedIsolation(ctx, sets, salt)
		evidence("after demotion A's repeats hit the shared tier on %s; %d requests of %d other tenants on the same paths, plain and with A's labels, got no cached token",
			strings.Join(ten6Paths(sets), ", "), n, len(env.Target.Tenants)-1)
	}, SpecTimeout(time.Minute))
})

// cachedOf is a served response's cached prompt tokens.
func cachedOf(r driver.Result) int { return r.Usage.PromptTokensDetails.CachedTokens }

// namedIn is " (a, b)" naming workers, or "" for none.
func namedIn(workers []string) string {
	if len(workers) == 0 {
		return ""
	}
	return " (" + strings.Join(workers, ", ") + ")"
}
