package suites

import (
	"net/http"
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
)

var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

var _ = Describe("Versions", func() {
	var versions discovery.Versions
	load := func(ctx SpecContext) {
		Expect(getJSON(ctx, discovery.PathVersions, tenantA().Key, &versions)).To(Equal(http.StatusOK))
		Expect(versions.Workers).NotTo(BeEmpty(), "no worker reports its versions")
	}

	It("has the router and every worker report the pinned runtime, policy and artifact versions, for every declared model", Req("VER-1"), func(ctx SpecContext) {
		load(ctx)
		pins := env.Target.Pins
		// Every router the target lists answers for itself: a deployment whose second router
		// runs a stale pin serves every other request on it.
		endpoints := env.HTTP.Endpoints()
		for i, base := range endpoints {
			var own discovery.Versions
			status, _, err := env.HTTP.At(i).GetJSON(ctx, discovery.PathVersions, tenantA().Key, &own)
			Expect(err).NotTo(HaveOccurred(), "GET %s at router %s", discovery.PathVersions, base)
			Expect(status).To(Equal(http.StatusOK), "GET %s at router %s", discovery.PathVersions, base)
			mustHold(own.RouterVersion == pins.RuntimeVersion, "the router at %s runs version %q; the record pins %q", base, own.RouterVersion, pins.RuntimeVersion)
			mustHold(own.PolicyVersion == pins.PolicyVersion, "the router at %s applies policy %q; the record pins %q", base, own.PolicyVersion, pins.PolicyVersion)
			judged("router", 2)
			if len(endpoints) > 1 {
				judged("router:"+base, 2)
			}
		}
		want := map[string]string{}
		for _, m := range env.Target.Models {
			want[m.Name] = m.ArtifactDigest
		}
		servedBy := map[string]int{} // declared model → workers reporting it at its pin
		for _, w := range versions.Workers {
			mustHold(w.RuntimeVersion == pins.RuntimeVersion, "worker %s runs version %q; the record pins %q", w.Worker, w.RuntimeVersion, pins.RuntimeVersion)
			mustHold(w.PolicyVersion == pins.PolicyVersion, "worker %s applies policy %q; the record pins %q", w.Worker, w.PolicyVersion, pins.PolicyVersion)
			mustHold(len(w.Artifacts) > 0, "worker %s reports no artifact", w.Worker)
			for _, a := range w.Artifacts {
				d, ok := want[a.Model]
				mustHold(ok, "worker %s serves model %q, which the record does not pin", w.Worker, a.Model)
				mustHold(a.Digest == d, "worker %s serves %s at %q; the record pins %s", w.Worker, a.Model, a.Digest, d)
				servedBy[a.Model]++
			}
			judged("worker:"+w.Worker, 2+len(w.Artifacts))
			evidence("worker %s: runtime %s, policy %s, %d artifacts at their pins", w.Worker, w.RuntimeVersion, w.PolicyVersion, len(w.Artifacts))
		}
		for _, m := range env.Target.Models {
			mustHold(servedBy[m.Name] > 0, "no worker reports the declared model %s", m.Name)
			judged("model:"+m.Name, servedBy[m.Name])
		}
	}, SpecTimeout(specTimeout))

	It("reports every artifact by digest, never by tag, in versions and in evidence", Req("VER-2"), func(ctx SpecContext) {
		load(ctx)
		for _, w := range versions.Workers {
			for _, a := range w.Artifacts {
				mustHold(digestPattern.MatchString(a.Digest), "worker %s reports %s as %q, not a digest", w.Worker, a.Model, a.Digest)
			}
			judged("worker:"+w.Worker, len(w.Artifacts))
		}
		// The artifact a request's evidence names is a reported version too: one served request
		// per tenant, so a record writer that names a tag for some callers is seen.
		for _, t := range env.Target.Tenants {
			res := sendServable(ctx, t.Key, probe("which artifact serves me?", 1, false), nil)
			Expect(res.Outcome.Served()).To(BeTrue(), "%s was not served: %s", t.Name, describe(res))
			rec := evidenceFor(ctx, t.Key, res.RequestID)[0]
			mustHold(digestPattern.MatchString(rec.ArtifactDigest), "%s's evidence names the artifact that served it as %q, not a digest", t.Name, rec.ArtifactDigest)
			judged("evidence:"+t.Name, 1)
		}
		evidence("%d workers and %d tenants' evidence: every artifact a sha256 digest", len(versions.Workers), len(env.Target.Tenants))
	}, SpecTimeout(specTimeout))
})
