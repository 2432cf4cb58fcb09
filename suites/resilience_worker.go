package suites

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/driver"
)

// workerKill is the fault kind recorded for a killed part.
const workerKill fault.Kind = "kill"

// Stream sizes of the mid-stream loss spec: long enough that the stream is still running when
// its worker goes, and the wait before the kill, well past a probe's first token.
const (
	midStreamTokens = 256
	midStreamLead   = 400 * time.Millisecond
	// servedAfterLoss is the share of requests started after detection that the remaining
	// workers must serve.
	servedAfterLoss = 0.95
)

// loseWorkers takes the workers behind the given parts of a region away: killed when the harness
// controls the runtime's parts, else cut off by downing their links (a lost host, as the router
// sees it). It returns what brings them back, which also records the fault's window.
func loseWorkers(ctx context.Context, region string, parts ...string) func() {
	if env.Nodes == nil {
		var heals []func()
		for _, p := range parts {
			a, err := env.Chaos.InjectPart(fault.RoleRegion, region, p, fault.Fault{Kind: fault.Down})
			Expect(err).NotTo(HaveOccurred(), "cutting worker %s off", p)
			heals = append(heals, func() { Expect(a.Heal()).To(Succeed()); recordWindow(a.Window()) })
		}
		return func() {
			for _, h := range heals {
				h()
			}
		}
	}
	w := fault.Window{Fault: fault.Fault{Kind: workerKill}, Role: "worker", Name: region, Start: time.Now()}
	for _, p := range parts {
		Expect(env.Nodes.Kill(ctx, "worker", p)).To(Succeed(), "killing worker %s", p)
		w.Links = append(w.Links, p)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			for _, p := range parts {
				Expect(env.Nodes.Restart(context.WithoutCancel(ctx), "worker", p)).To(Succeed(), "restarting worker %s", p)
			}
			w.End = time.Now()
			recordWindow(w)
		})
	}
}

// primaryWorkers returns the primary region and the parts (workers) behind its links.
func primaryWorkers() (string, []string) {
	plan, err := planRegions()
	region := ""
	if err == nil {
		region = plan.primary.Name
	} else if len(env.Target.Regions) > 0 {
		region = env.Target.Regions[0].Name
	}
	// Prefill-only workers serve no request of their own: losing one is no worker loss a client
	// could see, so they are left out.
	var v discovery.Versions
	status, _, err := env.HTTP.GetJSON(context.Background(), discovery.PathVersions, tenantA().Key, &v)
	prefill := map[string]bool{}
	if err == nil && status == http.StatusOK {
		for _, w := range v.Workers {
			prefill[w.Worker] = w.Role == "prefill"
		}
	}
	var parts []string
	for _, l := range env.Chaos.Select(fault.RoleRegion, region) {
		if l.Part != "" && !prefill[l.Part] {
			parts = append(parts, l.Part)
		}
	}
	return region, parts
}

var _ = Describe("Worker loss", Serial, Label("fault:worker"), func() {
	It("leaves every request one outcome and the remaining workers serving", Req("FLT-2"), func(ctx SpecContext) {
		DeferCleanup(noResidue)
		region, parts := primaryWorkers()
		if len(parts) < 2 {
			inconclusive("the primary region %q has %d workers behind declared links; losing one needs another to serve", region, len(parts))
			return
		}
		victim := parts[0]
		rr := faultRun{name: "worker-loss", stream: 351, pick: alternate(tenantA(), tenantB()),
			inject: func(ctx context.Context) func() { return loseWorkers(ctx, region, victim) }}.run(ctx)
		if !steadyBefore(rr) {
			return
		}
		expectEveryRequestEnded(ctx, rr)
		settled := rr.settled()
		served := chaosledger.Where(settled, chaosledger.Entry.Served)
		if len(settled) < minSettled {
			invalid("only %d requests after detection while %s was lost (need %d)", len(settled), victim, minSettled)
			return
		}
		Expect(float64(len(served))).To(BeNumerically(">=", servedAfterLoss*float64(len(settled))),
			"with %s lost, %d of %d requests were served: %v", victim, len(served), len(settled), chaosledger.Counts(settled))
		for _, e := range served {
			Expect(e.ServedBy.Worker).NotTo(Equal(victim), "request #%d was served by the lost worker", e.Seq)
		}
		expectRecovery(ctx, rr, tenantA())
		evidence("%s lost for %s: %d of %d requests after detection served by the other workers", victim, faultHold, len(served), len(settled))
	}, SpecTimeout(2*time.Minute))

	It("ends a stream whose worker is lost with a failed outcome", Req("OUT-7"), func(ctx SpecContext) {
		DeferCleanup(noResidue)
		region, parts := primaryWorkers()
		if len(parts) == 0 {
			inconclusive("the primary region %q has no worker behind a declared link", region)
			return
		}
		a := tenantA()
		r := rand.New(rand.NewPCG(uint64(env.Seed), 361))
		done := make(chan driver.Result, 1)
		go func() {
			defer GinkgoRecover()
			res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: a.Key, Body: probe(prompt(r, 8), midStreamTokens, true)})
			Expect(err).NotTo(HaveOccurred())
			done <- res
		}()
		sleepCtx(ctx, midStreamLead)
		heal := loseWorkers(ctx, region, parts...)
		var res driver.Result
		Eventually(done).WithContext(ctx).WithTimeout(tenantDeadline(a)+deadlineGrace).Should(Receive(&res), "the stream did not end after its worker was lost")
		heal()
		if res.Tokens == 0 || res.Tokens >= midStreamTokens {
			invalid("the stream had %d of %d tokens when it ended: the loss did not hit it mid-stream (%s)", res.Tokens, midStreamTokens, describe(res))
			return
		}
		Expect(res.MidStreamError).To(BeTrue(), "the stream ended without an error event after %d tokens: %s", res.Tokens, describe(res))
		Expect(res.Outcome).To(Equal(outcome.Failed), "the stream's final outcome: %s", describe(res))
		Expect(res.ContractViolations).To(BeEmpty())
		expectRecovery(ctx, runResult{window: chaosledger.Window{End: time.Now()}}, a)
		evidence("a stream lost its worker after %d tokens and ended with an error event: %s/%s", res.Tokens, res.Outcome, res.Reason)
	}, SpecTimeout(time.Minute))
})
