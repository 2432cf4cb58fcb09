package runtime

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/outcome"
)

const umbrellaKey = "dev-umbrella-key"

// refusedWithin bounds how long a cut worker may still be tried before the confidential tenant is
// refused: a few health polls.
const refusedWithin = 5 * time.Second

// TestConfidentialTenantStaysOnAttestedCapacity walks the dev configuration down as
// TestFallbackFollowsTheTenantsPolicy does, for umbrella, whose regions and hosted_fallback allow
// every place but whose policy requires confidential compute: it is served on worker-b (the only
// attested worker) with its evidence naming the attestation, and once worker-b is cut, and again
// once all of eu-west is, it is refused policy_forbids_fallback while globex is still served, and
// the hosted provider never sees it.
func TestConfidentialTenantStaysOnAttestedCapacity(t *testing.T) {
	rig := startFallbackRig(t, devConfig(t))
	ask := func(key string) response {
		return post(t, rig.rt, "/v1/chat/completions", key, chat("attested only?", 3), nil)
	}
	for range 4 {
		r := ask(umbrellaKey)
		expectOutcome(t, r, http.StatusOK, "completed", "none")
		if sb := servedBy(t, r); sb.Worker != "worker-b" {
			t.Fatalf("umbrella served by %v, want the attested worker-b", sb)
		}
		recs := evidenceOf(t, rig.rt, umbrellaKey, r.header.Get("X-Request-Id"))
		if len(recs) != 1 || len(recs[0].Attestation) != len("sha256:")+64 {
			t.Fatalf("evidence of umbrella's request %+v names no attestation", recs)
		}
		if g := get(t, rig.rt, "/v1/aruntime/attestations/"+recs[0].Attestation, umbrellaKey); g.status != http.StatusOK {
			t.Fatalf("the attestation its evidence names does not resolve: %d %s", g.status, g.body)
		}
	}
	refusedSoon := func(what string) {
		t.Helper()
		// A failed attempt marks the cut worker down and the next is planned without it, so a few
		// attempts may end otherwise first; none may be served, and within the timeout one must
		// be refused policy_forbids_fallback.
		gomega.NewWithT(t).Eventually(func() error {
			r := ask(umbrellaKey)
			got := fmt.Sprintf("%d %s/%s by %s", r.status, r.header.Get(outcome.HeaderOutcome), r.header.Get(outcome.HeaderReason), r.header.Get(outcome.HeaderServedBy))
			switch {
			case r.status == http.StatusOK:
				return gomega.StopTrying(what + ": umbrella's request was served: " + got)
			case r.header.Get(outcome.HeaderReason) != string(outcome.ReasonPolicyForbidsFallback):
				return fmt.Errorf("%s: umbrella's request ended %s, want policy_forbids_fallback", what, got)
			}
			return nil
		}).WithTimeout(refusedWithin).WithPolling(50 * time.Millisecond).Should(gomega.Succeed())
		for range 3 {
			expectOutcome(t, ask(umbrellaKey), http.StatusForbidden, "rejected", "policy_forbids_fallback")
		}
		if g := ask(globexKey); g.status != http.StatusOK {
			t.Fatalf("%s: globex, whose policy allows the remaining places, was not served: %d %s", what, g.status, g.body)
		}
	}
	rig.links["worker-b"].Cut()
	refusedSoon("worker-b cut")
	if sb := servedBy(t, ask(acmeKey)); sb.Worker != "worker-a" {
		t.Fatalf("acme served by %v, want worker-a: unattested capacity is up", sb)
	}
	rig.links["worker-a"].Cut()
	refusedSoon("eu-west cut")
	rig.links["worker-c"].Cut()
	refusedSoon("every worker cut") // globex is served by the hosted provider now
	if tenants := rig.standIn.Tenants(); slices.Contains(tenants, "umbrella") {
		t.Fatalf("the hosted provider saw umbrella's data: tenants %v", tenants)
	}
}
