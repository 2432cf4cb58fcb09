package suites

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/target"
)

// linkOutage runs steady load over the first two tenants with role's links down in the middle.
// Toxiproxy counts a connection's bytes when it closes, and downing a proxy closes every live
// connection, so bytes counted at the cut that were not counted before it prove the runtime had
// live connections over the link when it was cut: the fault hit it. Without that proof the run
// is INVALID. It returns the run and whether it can be judged.
// Every request after detection must be served: want says so for FLT-1's judgement.
func linkOutage(ctx context.Context, role link.Role, stream uint64, pick func(r *rand.Rand, i int) loadReq) (runResult, bool) {
	if !needLinks(role, "") {
		return runResult{}, false
	}
	var before, cut int64
	rr := faultRun{name: string(role) + "-outage", stream: stream, pick: pick,
		inject: func(ctx context.Context) func() error {
			before = linkBytes(ctx, role)
			heal := inject(role, "", fault.Fault{Kind: fault.Down})
			return func() error { cut = linkBytes(ctx, role); return heal() }
		}}.run(ctx)
	if !steadyBefore(rr) {
		return rr, false
	}
	if cut <= before {
		invalid("no live connection crossed the %s link when it was cut (%d bytes counted before, %d after), so the outage could not hit traffic", role, before, cut)
		return rr, false
	}
	evidence("the cut closed live connections over the %s link that had carried %d bytes", role, cut-before)
	judgeOutage(ctx, role, rr, func(chaosledger.Entry) outageAnswer { return serve() })
	expectRecovery(ctx, rr, tenantA())
	return rr, true
}

// linkBytes is what the fault server has counted over role's links so far.
func linkBytes(ctx context.Context, role link.Role) int64 {
	n, err := env.Chaos.Bytes(ctx, role, "")
	Expect(err).NotTo(HaveOccurred(), "reading the %s link's byte count", role)
	return n
}

var _ = Describe("Cache tier outage", Serial, Label("fault:cache"), func() {
	It("serves every request without the shared tier and recovers", Req("FLT-1"), func(ctx SpecContext) {
		DeferCleanup(noResidue)
		// Prompts of many cache blocks: a prompt shorter than one block never asks the shared tier.
		// Every request after detection must be served (judgeOutage): the tier is an optimisation.
		linkOutage(ctx, link.RoleCache, 321, rotate([]target.Tenant{tenantA(), tenantB()}, outagePromptWords, nil))
	}, SpecTimeout(time.Minute))
})

var _ = Describe("Evidence service outage", Serial, Label("fault:evidence"), func() {
	It("serves through the outage and loses no evidence record", Req("FLT-1", "DUR-1"), func(ctx SpecContext) {
		Expect(env.Target.Operator).NotTo(BeNil(), "the chain is read through the operator's listing")
		DeferCleanup(noResidue)
		rr, ok := linkOutage(ctx, link.RoleEvidence, 331, rotate([]target.Tenant{tenantA(), tenantB()}, 6, nil))
		if !ok {
			return
		}
		inWindow := chaosledger.Where(rr.inWindow(), chaosledger.Entry.Served)
		if len(inWindow) < minSettled {
			invalid("only %d requests served during the evidence outage (need %d)", len(inWindow), minSettled)
			return
		}
		key := env.Target.Operator.Key
		for _, e := range rr.entries {
			if e.RequestID == "" {
				continue
			}
			recs := awaitRecords(ctx, key, e.RequestID, recoveryTime())
			judgeThat(len(recs) == 1, "request #%d over %s (%s, answered %s/%s during or around the evidence outage) has %d evidence records %s after healing, not one",
				e.Seq, e.Path, e.RequestID, e.Outcome, e.Reason, len(recs), recoveryTime())
		}
		all := allEvidence(ctx, key)
		Expect(discovery.VerifyChain(all)).To(Succeed())
		// The samples that decide DUR-1 are the requests answered while the service was away.
		for _, p := range faultPaths() {
			if n := len(chaosledger.Where(inWindow, func(e chaosledger.Entry) bool { return e.Path == p })); n == 0 {
				invalid("no request over %s was served during the evidence outage", p)
				return
			}
		}
		for p, n := range byPath(inWindow) {
			judgedFor("DUR-1", p, n)
		}
		explainPaths(viaHTTP, viaHTTPStream, viaGRPC, viaGRPCStream)
		evidence("%d requests (%d served during the outage: %s), one evidence record each; the chain of %d records verifies", len(rr.entries), len(inWindow), pathsText(inWindow), len(all))
	}, SpecTimeout(2*time.Minute))
})

var _ = Describe("Registry outage", Serial, Label("fault:registry"), func() {
	It("keeps serving the applied version and converges after healing", Req("FLT-1"), func(ctx SpecContext) {
		if !needLinks(link.RoleRegistry, "") {
			return
		}
		_, model, _, convergence := ops()
		DeferCleanup(noResidue)
		allOn(ctx, model, pinned(model))
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, model, pinned(model)); allOn(ctx, model, pinned(model)) })
		rollout := env.Target.Operations.RolloutDigest
		var held []string // what the workers report just before healing
		rr := faultRun{name: "registry-outage", stream: 341, pick: rotate([]target.Tenant{tenantA(), tenantB()}, 6, nil),
			inject: func(ctx context.Context) func() error {
				heal := inject(link.RoleRegistry, "", fault.Fault{Kind: fault.Down})
				setDigest(ctx, model, rollout)
				return func() error { held = workerDigests(ctx, model); return heal() }
			}}.run(ctx)
		if !steadyBefore(rr) {
			return
		}
		if len(held) == 0 || !allSuffixed(held, "="+pinned(model)) {
			invalid("the workers reported %s before the registry healed: the rollout did not wait on the registry, so the outage did not hit it", listed(held))
			return
		}
		for _, e := range rr.entries {
			Expect(e.Served()).To(BeTrue(), "request #%d over %s during the registry outage: %s/%s", e.Seq, e.Path, e.Outcome, e.Reason)
		}
		judgeOutage(ctx, link.RoleRegistry, rr, func(chaosledger.Entry) outageAnswer { return serve() })
		start := time.Now()
		allOn(ctx, model, rollout)
		evidence("a rollout to %s asked for during the registry outage converged %s after healing (declared convergence %s)", rollout, time.Since(start).Round(time.Millisecond), convergence)
	}, SpecTimeout(2*time.Minute))
})

// allSuffixed reports whether every s ends with suffix.
func allSuffixed(list []string, suffix string) bool {
	for _, s := range list {
		if !strings.HasSuffix(s, suffix) {
			return false
		}
	}
	return true
}

// outagePromptWords is the length of the cache outage's prompts: many blocks of any reasonable
// block size, so that every prompt misses its worker's L1 and asks the shared tier.
const outagePromptWords = 256
