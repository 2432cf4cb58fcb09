package suites

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/conformance/target"
)

// The Runtime Decision Record is itself a requirement of the guidance: these specs check the
// record, not the runtime. The schema already refused a record with an empty decision; here the
// content is checked against the rest of the record.
var _ = Describe("Runtime Decision Record", func() {
	It("records capacity, quotas and every placement decision", Req("QUO-4"), func() {
		t := env.Target
		Expect(t.Capacity.Concurrency).To(BeNumerically(">", 0))
		Expect(t.Capacity.RequestsPerSecond).To(BeNumerically(">", 0))
		for _, tn := range t.Tenants {
			Expect(tn.Quota.RequestsPerMinute).To(BeNumerically(">", 0), "tenant %s", tn.Name)
		}
		p := t.Placement
		for name, d := range map[string]target.Decision{
			"capacity and quota": p.CapacityAndQuota, "fabric topology": p.FabricTopology, "multi-tenancy": p.MultiTenancy,
			"autoscaling lag": p.AutoscalingLag, "cost attribution": p.CostAttribution, "provider and region failure": p.ProviderAndRegionFailure,
		} {
			Expect(d.Constraint).NotTo(BeEmpty(), name)
			Expect(d.Assumption).NotTo(BeEmpty(), name)
			Expect(d.TradeOff).NotTo(BeEmpty(), name)
		}
		evidence("capacity %d concurrent, %.0f req/s; six placement decisions recorded", t.Capacity.Concurrency, t.Capacity.RequestsPerSecond)
	})

	It("documents the control, execution, data and evidence locations", Req("DOC-1"), func() {
		l := env.Target.Locations
		Expect([]string{l.Control, l.Execution, l.Data, l.Evidence}).NotTo(ContainElement(BeEmpty()))
		evidence("control: %s; execution: %s; data: %s; evidence: %s", l.Control, l.Execution, l.Data, l.Evidence)
	})
})
