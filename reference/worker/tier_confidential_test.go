package worker

import (
	"context"
	"testing"

	"google.golang.org/grpc/metadata"
)

// confidentialCachedBy is cachedBy for a request the router marked confidential.
func confidentialCachedBy(t *testing.T, w *served, tenant, p string) (int64, string) {
	t.Helper()
	ctx := metadata.AppendToOutgoingContext(context.Background(), MetadataConfidential, "true")
	res, err := generate(ctx, w.client, request(tenant, p, 1))
	if err != nil {
		t.Fatal(err)
	}
	return res.final.GetUsage().GetCachedTokens(), res.final.GetCachedTier()
}

// A confidential tenant's blocks stay in the attested worker's L1: evicted, they are dropped
// rather than demoted to the shared tier, and a repeat never reads them back from it.
func TestConfidentialBlocksNeverReachTheSharedTier(t *testing.T) {
	st, l2 := serveCache(t)
	w := serve(t, tieredOptions(l2))
	a, b := prompt('a', 6*4+1), prompt('b', 6*4)

	confidentialCachedBy(t, w, "umbrella", a)
	if got, tier := confidentialCachedBy(t, w, "umbrella", a); got != 24 || tier != TierL1 {
		t.Fatalf("repeat: cached %d tier %q, want 24 from l1 (L1 on the attested worker is fine)", got, tier)
	}
	cachedBy(t, w, "acme", b) // 12 blocks in 8: the confidential prompt's first 4 are evicted
	waitFor(t, "4 evicted blocks dropped", func() bool { return w.srv.TierStats().DemoteDropped >= 4 })
	if got, tier := confidentialCachedBy(t, w, "umbrella", a); tier == TierL2 {
		t.Fatalf("after eviction: cached %d from l2: the confidential tenant's blocks went through the shared tier", got)
	}
	if u := st.Stats().Tenants["umbrella"]; u.Blocks != 0 || u.Hits != 0 || u.Misses != 0 {
		t.Errorf("umbrella in L2 = %+v, want no call at all: the tier must not even learn of the tenant", u)
	}
	if ts := w.srv.TierStats(); ts.Promoted != 0 {
		t.Errorf("tier stats = %+v, want nothing promoted", ts)
	}
}
