package suites

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/chaos/fault"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
)

// partitionPlan is who the router partition is played on: the router cut from the state store's
// network (the last one, so the harness's own reads, which go to the primary, stay connected) and
// the router that stays.
type partitionPlan struct {
	cutter     fault.NetworkCutter
	network    string
	routers    []string
	cut, other int
}

// planPartition reads the plan off the target and the harness's controls, or says why the spec
// has nothing to judge (INCONCLUSIVE).
func planPartition() (partitionPlan, string) {
	p := partitionPlan{cutter: netCutter()}
	if p.cutter == nil {
		return p, "the harness cannot cut this deployment's networks"
	}
	d := env.Target.Deployment
	if d == nil || d.StateStore == nil || d.StateStore.Network == "" {
		return p, "the target's deployment names no network the routers reach the state store over"
	}
	p.network = d.StateStore.Network
	p.routers = env.Nodes.Parts(routerRole)
	n := len(p.routers)
	if n < 2 {
		return p, fmt.Sprintf("the harness controls %d router parts; a partition needs one cut and one connected", n)
	}
	if len(env.HTTP.Endpoints()) != n || (env.GRPC != nil && env.GRPC.Len() != n) {
		return p, fmt.Sprintf("the target lists %d HTTP endpoints for %d router parts: which endpoint a router serves is unknown", len(env.HTTP.Endpoints()), n)
	}
	p.cut, p.other = n-1, 0
	return p, ""
}

// cutEndpoints are router k's endpoints as the ledger's entries name them.
func cutEndpoints(k int) []string {
	out := []string{env.HTTP.At(k).Endpoints()[0]}
	if addrs := env.Target.Endpoints.GRPCAddrs(); k < len(addrs) {
		out = append(out, addrs[k])
	}
	return out
}

var _ = Describe("Router partition", Serial, Label("fault:partition"), func() {
	It("keeps serving from a router cut from the state store, answers its batch in time and loses no evidence", Req("DUR-5"), func(ctx SpecContext) {
		p, why := planPartition()
		if why != "" {
			inconclusive("%s", why)
			return
		}
		Expect(env.Target.Operator).NotTo(BeNil(), "the chain is read through the operator's listing")
		DeferCleanup(noResidue)
		key := env.Target.Operator.Key
		chainFrom := lastSeq(allEvidence(ctx, key))
		a := tenantA()
		explainPaths(viaHTTP, viaHTTPStream, viaGRPC, viaGRPCStream)

		var (
			mu      sync.Mutex
			cutOpen bool
			cutIDs  []string // requests the cut router answered while cut, in order of answer
			cutEnds []time.Time
			batch   partitionBatch
			batchID string
			spool   spoolProbe
			answer  chan struct{} // closed once the batch has its answer; nil until the cut
		)
		// Two tenants whose quotas carry the load with room to spare (the pinned router gets
		// three quarters of it), checked again at their share once only two carry it: a refusal
		// the run meets is then the partition's doing. Only the cut router may answer otherwise
		// than served, and only before the runtime's detection time (partitionServing).
		tenants := roomyTenants(env.Target.Tenants, faultRate())
		tenants = roomyTenants(tenants[:min(2, len(tenants))], faultRate())
		if len(tenants) == 0 {
			invalid("no tenant's declared quota carries its share of %.0f requests/s four times over, so a quota refusal could be the load's, not the partition's", faultRate())
			return
		}
		rr := pinnedRun{name: "router-partition", stream: 395, tenants: tenants,
			cut: p.cut, other: p.other, hold: partitionHold,
			inject: func(ctx context.Context, hold time.Duration) func() error {
				heal := cutNetwork(ctx, p.cutter, routerRole, p.routers[p.cut], p.network)
				lookAt := time.Now().Add(hold - spoolLead)
				mu.Lock()
				cutOpen = true
				mu.Unlock()
				answer = make(chan struct{})
				// The batch, then, just before the cut ends, which records of the window are not
				// chained yet (held in the cut router's spool). Its own goroutine, so the load
				// goes on meanwhile; it asserts nothing.
				go func() {
					defer close(answer)
					batch, batchID = submitTo(ctx, p.cut, a, fmt.Sprintf("arcert-partition-%d-%d", env.Seed, time.Now().UnixNano()))
					sleepCtx(ctx, time.Until(lookAt))
					mu.Lock()
					cutOpen = false
					var ids []string
					for i, id := range cutIDs {
						if time.Since(cutEnds[i]) >= spoolSettle {
							ids = append(ids, id)
						}
					}
					mu.Unlock()
					spool = probeSpool(ctx, key, p.other, ids)
				}()
				return func() error {
					<-answer // normally long done: the batch is answered in time, the look is quick
					return heal()
				}
			},
			onCut: func(e chaosledger.Entry) {
				mu.Lock()
				defer mu.Unlock()
				if cutOpen && e.Served() && e.RequestID != "" {
					cutIDs, cutEnds = append(cutIDs, e.RequestID), append(cutEnds, e.End)
				}
			},
		}.run(ctx)
		if answer != nil {
			<-answer // the heal waited for it already, unless the engine rolled back first
		}

		var ids []string
		for _, e := range answeredEntries(rr.entries) {
			ids = append(ids, e.RequestID)
		}
		chain := settledChain(ctx, key, ids, recoveryTime())
		l := partitionLedger{router: p.routers[p.cut], cutAt: cutEndpoints(p.cut), window: rr.window, detection: detection(), grace: deadlineGrace,
			paths: faultPaths(), entries: rr.entries, batch: batch, spool: spool, chain: chain}
		if !gate(scenario.SteadyBefore(rr.entries, rr.window.Start, minBefore, steadyServed)) || !gate(partitionGate(l)) {
			return
		}
		judgeProblems("serving through the partition", partitionServing(l))
		judgeProblems("the batch submitted to the cut router", partitionBatchProblems(batch))
		judgeProblems("evidence after healing", partitionEvidence(l))
		msg := fmt.Sprintf("%s cut from network %s for %s: %d requests to it past detection (%s) served; its batch answered %d %s/%s (Retry-After %q) in %s; %d of %d window records sampled before healing were not chained yet; all %d answered requests (both routers: %s) have one record of their own tenant in a settled chain of %d that verifies",
			l.router, p.network, rr.window.End.Sub(rr.window.Start).Round(time.Millisecond), len(l.cutSettled()), pathsText(l.cutSettled()),
			batch.status, batch.class, batch.reason, batch.retryAfter, batch.took.Round(time.Millisecond), spool.absent, spool.sampled, len(ids), pathsText(answeredEntries(rr.entries)), chain.length)
		for path, n := range byPath(l.cutSettled()) {
			judgedFor("DUR-5", path, n)
		}
		judgedFor("DUR-5", "batch-api", 1)
		judgedFor("DUR-5", "evidence", len(ids))
		if batch.accepted() {
			done := expectJobsDone(ctx, a, batchID, "accepted by the cut router", recoveryTime())
			var jobs []string
			for _, o := range done.Output {
				jobs = append(jobs, o.Response.RequestID)
			}
			// The jobs' records, like the requests', are counted on one listing of the settled
			// chain: a job's record re-appended late, or a job run again under another id, fails.
			jc := settledChain(ctx, key, jobs, recoveryTime())
			problems := batchOnce(done, true, partitionJobs, jc, a.Name)
			stray, strays := jc.strayJobs(chainFrom, a.Name, jobs, ids)
			judgeProblems("the batch accepted by the cut router", append(problems, stray...))
			notProbed("refusal", "the cut router accepted its batch (which then completed exactly once) rather than refuse it")
			msg += fmt.Sprintf("; batch %s completed with every job once, one record each of %s", batchID, a.Name)
			if !strays {
				msg += " (a job run again under another id is not looked for: its records share a traffic class with the requests')"
			}
		} else {
			judgedFor("DUR-5", "refusal", 1)
		}
		evidence("%s", msg)
	}, SpecTimeout(3*time.Minute))
})

// judgeProblems fails the spec when problems is not empty, naming the first few.
func judgeProblems(what string, problems []string) {
	GinkgoHelper()
	const shown = 5
	judgeThat(len(problems) == 0, "%s: %d problems: %s", what, len(problems), strings.Join(problems[:min(shown, len(problems))], "; "))
}
