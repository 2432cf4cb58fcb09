package suites

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
)

// operatorListing is the contract's operator-only endpoint: every tenant's evidence.
const operatorListing = discovery.PathEvidence + "?since=0&limit=1"

var _ = Describe("Identity", func() {
	It("refuses a tenant key on operator endpoints", Req("ID-1"), func(ctx SpecContext) {
		op := env.Target.Operator
		if op == nil {
			inconclusive("the target declares no operator credential, so the positive control cannot run")
			return
		}
		var list discovery.EvidenceList
		if status := getJSON(ctx, operatorListing, op.Key, &list); status != http.StatusOK {
			inconclusive("positive control failed: the operator itself got %d from %s", status, operatorListing)
			return
		}
		var leaked discovery.EvidenceList
		status, hdr, err := env.HTTP.GetJSON(ctx, operatorListing, tenantA().Key, &leaked)
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(Or(Equal(http.StatusForbidden), Equal(http.StatusUnauthorized)), "a tenant key listed every tenant's evidence")
		Expect(hdr.Get(outcome.HeaderOutcome)).To(Equal(string(outcome.Rejected)))
		Expect(leaked.Records).To(BeEmpty())
		evidence("operator %d, tenant %d %s/%s", http.StatusOK, status, hdr.Get(outcome.HeaderOutcome), hdr.Get(outcome.HeaderReason))
	}, SpecTimeout(specTimeout))

	It("refuses the workload credential on the data plane", Req("ID-2"), func(ctx SpecContext) {
		wl := env.Target.Workload
		if wl == nil {
			inconclusive("the target declares no workload credential")
			return
		}
		res := send(ctx, wl.Key, probe("act as a tenant", 1, false), nil)
		Expect(res.Outcome).To(Equal(outcome.Rejected), "the workload credential was served as a tenant: %s", describe(res))
		evidence("workload credential: %d %s/%s", res.Status, res.Outcome, res.Reason)
	}, SpecTimeout(specTimeout))

	It("refuses the operator credential on the data plane", Req("ID-3"), func(ctx SpecContext) {
		op := env.Target.Operator
		if op == nil {
			inconclusive("the target declares no operator credential")
			return
		}
		res := send(ctx, op.Key, probe("act as a tenant", 1, false), nil)
		Expect(res.Outcome).To(Equal(outcome.Rejected), "the operator credential was served as a tenant: %s", describe(res))
		evidence("operator credential: %d %s/%s", res.Status, res.Outcome, res.Reason)
	}, SpecTimeout(specTimeout))

	It("records user, application and deployment apart from the tenant", Req("ID-4"), func(ctx SpecContext) {
		a := tenantA()
		res := send(ctx, a.Key, probe("who am I?", 1, false), nil)
		Expect(res.Outcome.Served()).To(BeTrue(), describe(res))
		recs := evidenceFor(ctx, a.Key, res.RequestID)
		Expect(recs).To(HaveLen(1))
		r := recs[0]
		Expect(r.User).NotTo(BeEmpty(), "no user")
		Expect(r.Application).NotTo(BeEmpty(), "no application")
		Expect(r.Deployment).NotTo(BeEmpty(), "no deployment")
		if a.User != "" {
			Expect(r.User).To(Equal(a.User))
		}
		if a.Application != "" {
			Expect(r.Application).To(Equal(a.Application))
		}
		evidence("record %s: tenant %s, application %s, user %s, deployment %s", r.RequestID, r.Tenant, r.Application, r.User, r.Deployment)
	}, SpecTimeout(specTimeout))
})
