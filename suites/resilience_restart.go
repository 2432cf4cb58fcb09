package suites

import (
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
)

// spooledRequests is how many requests the router-crash spec has answered while the evidence
// service is away, so that their records wait in the router's spool when it is killed.
const spooledRequests = 10

// routerRole is the node role of the runtime's front door.
const routerRole = "router"

var _ = Describe("Router crash", Serial, Label("fault:router", "fault:evidence"), func() {
	It("keeps spooled evidence and accepted jobs across a crash of the router", Req("DUR-3"), func(ctx SpecContext) {
		if env.Nodes == nil || len(env.Nodes.Parts(routerRole)) == 0 {
			inconclusive("the harness controls no router part of this runtime to crash")
			return
		}
		if !needLinks(link.RoleEvidence, "") {
			return
		}
		Expect(env.Target.Operator).NotTo(BeNil(), "the chain is read through the operator's listing")
		DeferCleanup(noResidue)
		router := env.Nodes.Parts(routerRole)[0]
		a := tenantA()
		awaitSteady(ctx)
		status, _, _, jobs := submitJobs(ctx, a, fmt.Sprintf("arcert-crash-%d-%d", env.Seed, time.Now().UnixNano()), queueJobs, queueJobTokens)
		Expect(status).To(Equal(http.StatusOK), "a batch before the crash")
		heal := inject(link.RoleEvidence, "", fault.Fault{Kind: fault.Down})
		r := rng(391)
		var ids []string
		for range spooledRequests {
			res := send(ctx, a.Key, probe(prompt(r, 6), 2, false), nil)
			Expect(res.Outcome).To(BeEquivalentTo("completed"), "a request during the evidence outage: %s", describe(res))
			ids = append(ids, res.RequestID)
		}
		var now batchObject
		Expect(getJSON(ctx, "/v1/batches/"+jobs.ID, a.Key, &now)).To(Equal(http.StatusOK))
		if now.Status == "completed" {
			Expect(heal()).To(Succeed())
			invalid("batch %s completed before the crash: the crash could not hit it", jobs.ID)
			return
		}
		killed := time.Now()
		Expect(env.Nodes.Kill(ctx, routerRole, router)).To(Succeed(), "killing %s", router)
		Expect(env.Nodes.Restart(ctx, routerRole, router)).To(Succeed(), "restarting %s", router)
		back := time.Since(killed)
		recordWindow(fault.Window{Fault: fault.Fault{Kind: workerKill}, Role: routerRole, Name: router, Start: killed, End: time.Now()})
		Expect(heal()).To(Succeed())
		done := expectJobsDone(ctx, a, jobs.ID, "running when the router was killed", recoveryTime())
		judgedFor("DUR-3", "redelivery", expectOnce(ctx, a, done, queueJobs))
		key := env.Target.Operator.Key
		for _, id := range ids {
			recs := awaitRecords(ctx, key, id, recoveryTime())
			judgeThat(len(recs) == 1, "request %s, answered before the crash, has %d evidence records %s after the router came back, not one", id, len(recs), recoveryTime())
		}
		Expect(listEvidence(ctx, key).problem()).To(BeEmpty(), "the evidence chain after the router came back")
		judgedFor("DUR-3", "evidence", len(ids))
		evidence("%s killed with batch %s %s and %d records spooled in an evidence outage; back in %s; every job once, every record once, the chain verifies",
			router, jobs.ID, now.Status, len(ids), back.Round(time.Millisecond))
	}, SpecTimeout(2*time.Minute))
})
