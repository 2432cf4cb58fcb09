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

	It("has every worker report the pinned runtime, policy and artifact versions", Req("VER-1"), func(ctx SpecContext) {
		load(ctx)
		pins := env.Target.Pins
		want := map[string]string{}
		for _, m := range env.Target.Models {
			want[m.Name] = m.ArtifactDigest
		}
		for _, w := range versions.Workers {
			Expect(w.RuntimeVersion).To(Equal(pins.RuntimeVersion), "worker %s runtime version", w.Worker)
			Expect(w.PolicyVersion).To(Equal(pins.PolicyVersion), "worker %s policy version", w.Worker)
			Expect(w.Artifacts).NotTo(BeEmpty(), "worker %s reports no artifact", w.Worker)
			for _, a := range w.Artifacts {
				if d, ok := want[a.Model]; ok {
					Expect(a.Digest).To(Equal(d), "worker %s serves %s at another digest than pinned", w.Worker, a.Model)
				}
			}
			evidence("worker %s: runtime %s, policy %s, artifacts %v", w.Worker, w.RuntimeVersion, w.PolicyVersion, w.Artifacts)
		}
	}, SpecTimeout(specTimeout))

	It("reports every artifact by digest, never by tag", Req("VER-2"), func(ctx SpecContext) {
		load(ctx)
		for _, w := range versions.Workers {
			for _, a := range w.Artifacts {
				Expect(a.Digest).To(MatchRegexp(digestPattern.String()), "worker %s reports %s as %q", w.Worker, a.Model, a.Digest)
			}
		}
		evidence("%d workers, every artifact a sha256 digest", len(versions.Workers))
	}, SpecTimeout(specTimeout))
})
