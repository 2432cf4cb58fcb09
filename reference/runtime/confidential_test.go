package runtime

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
)

const umbrellaKey = "dev-umbrella-key"

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
		deadline := time.Now().Add(5 * time.Second)
		for {
			r := ask(umbrellaKey)
			if r.header.Get(outcome.HeaderReason) == string(outcome.ReasonPolicyForbidsFallback) {
				break
			}
			if r.status == http.StatusOK || time.Now().After(deadline) {
				t.Fatalf("%s: umbrella's request ended %d %s/%s by %s, want policy_forbids_fallback", what, r.status,
					r.header.Get(outcome.HeaderOutcome), r.header.Get(outcome.HeaderReason), r.header.Get(outcome.HeaderServedBy))
			}
			time.Sleep(50 * time.Millisecond) // a failed attempt marks worker-b down; the next is planned without it
		}
		for range 3 {
			expectOutcome(t, ask(umbrellaKey), http.StatusForbidden, "rejected", "policy_forbids_fallback")
		}
		if g := ask(globexKey); g.status != http.StatusOK {
			t.Fatalf("%s: globex, whose policy allows the remaining places, was not served: %d %s", what, g.status, g.body)
		}
	}
	rig.links["worker-b"].cut()
	refusedSoon("worker-b cut")
	if sb := servedBy(t, ask(acmeKey)); sb.Worker != "worker-a" {
		t.Fatalf("acme served by %v, want worker-a: unattested capacity is up", sb)
	}
	rig.links["worker-a"].cut()
	refusedSoon("eu-west cut")
	rig.links["worker-c"].cut()
	refusedSoon("every worker cut") // globex is served by the hosted provider now
	if tenants := rig.standIn.Tenants(); slices.Contains(tenants, "umbrella") {
		t.Fatalf("the hosted provider saw umbrella's data: tenants %v", tenants)
	}
}
