package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/internal/testgrpc"
	"github.com/aruntime/arcert/reference/cache"
	"github.com/aruntime/arcert/reference/tokenizer"
	"github.com/aruntime/arcert/reference/worker/prefixcache"
)

var _ L2Client = (*cache.Client)(nil)

// tinyL1Blocks is an L1 that holds one 6-block prompt and a bit, so the
// next prompt evicts most of it.
const tinyL1Blocks = 8

// prompt returns a prompt of exactly tokens tokens that shares no token
// with prompts of another id: every word is four runes, one token.
func prompt(id byte, tokens int) string {
	words := make([]string, tokens)
	for i := range words {
		words[i] = fmt.Sprintf("%c%03d", id, i)
	}
	return strings.Join(words, " ")
}

// serveCache runs a cache tier on loopback until the test ends and returns
// its store and a client sized for the test workers' blocks.
func serveCache(t *testing.T) (*cache.Store, *cache.Client) {
	t.Helper()
	st, err := cache.NewStore(cache.Budgets{Global: 1 << 30, Tenant: 1 << 24})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := cache.NewServer(st, cache.ServerOptions{Token: testToken, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cc := testgrpc.Dial(t, testgrpc.Serve(t, "cache", srv.Serve))
	c, err := cache.NewClient(cc, cache.ClientOptions{Token: testToken, BlockBytes: 4 * testKVPerTok})
	if err != nil {
		t.Fatal(err)
	}
	return st, c
}

// tieredOptions is testOptions with a tiny L1 in front of l2.
func tieredOptions(l2 L2Client) Options {
	o := testOptions("w-tiered")
	o.Worker.Engine.PrefixCacheBlocks = tinyL1Blocks
	o.L2 = l2
	o.L2Timeout = testTimeout // the default is tuned for production, not -race on a busy machine
	return o
}

// cachedBy runs one request and returns its cached tokens and tier.
func cachedBy(t *testing.T, w *served, tenant, p string) (int64, string) {
	t.Helper()
	final := mustGenerate(t, w.client, request(tenant, p, 1)).final
	return final.GetUsage().GetCachedTokens(), final.GetCachedTier()
}

// waitDemoted waits until the worker has stored n evicted blocks in L2.
func waitDemoted(t *testing.T, w *served, n uint64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d blocks demoted", n), func() bool { return w.srv.TierStats().Demoted >= n })
}

func TestL2ServesPromptEvictedFromL1(t *testing.T) {
	st, l2 := serveCache(t)
	w := serve(t, tieredOptions(l2))
	a, b := prompt('a', 6*4+1), prompt('b', 6*4) // 6 blocks each; a's partial block keeps the cap out of the way

	if got, tier := cachedBy(t, w, "acme", a); got != 0 || tier != "" {
		t.Fatalf("cold: cached %d tier %q, want 0 and none", got, tier)
	}
	if got, tier := cachedBy(t, w, "acme", a); got != 24 || tier != TierL1 {
		t.Fatalf("repeat: cached %d tier %q, want 24 from l1", got, tier)
	}
	cachedBy(t, w, "acme", b) // 12 blocks in 8: a's first 4 are evicted and demoted
	waitDemoted(t, w, 4)
	if got, tier := cachedBy(t, w, "globex", a); got != 0 || tier != "" {
		t.Fatalf("other tenant: cached %d tier %q, want 0 and none", got, tier)
	}
	waitDemoted(t, w, 10) // globex's 6 blocks evicted a's last 2 and 4 of b's
	if got, tier := cachedBy(t, w, "acme", a); got != 24 || tier != TierL2 {
		t.Fatalf("after eviction: cached %d tier %q, want 24 from l2", got, tier)
	}

	s := st.Stats()
	if g := s.Tenants["globex"]; g.Hits != 0 || g.Misses == 0 {
		t.Errorf("globex in L2 = %+v, want only misses", g)
	}
	if acme := s.Tenants["acme"]; acme.Hits != 6 {
		t.Errorf("acme in L2 = %+v, want the 6 blocks of a promoted", acme)
	}
	if ts := w.srv.TierStats(); ts.Promoted != 6 || ts.DemoteDropped != 0 || ts.DemoteFailed != 0 || ts.LookupFailed != 0 {
		t.Errorf("tier stats = %+v", ts)
	}
}

func TestL2ScopesByTenantEvenWithSharedKeys(t *testing.T) {
	st, l2 := serveCache(t)
	o := tieredOptions(l2)
	// A salt that ignores the tenant (the harness's negative control for
	// L1) makes both tenants' keys identical; only L2's scope keeps them apart.
	shared := []byte("shared")
	o.Salt = func(string, string, string) []byte { return shared }
	w := serve(t, o)
	a := prompt('a', 6*4+1)

	cachedBy(t, w, "acme", a)
	cachedBy(t, w, "acme", prompt('c', 8*4)) // fills L1: all 6 of a's blocks go to L2
	waitDemoted(t, w, 6)
	if got, tier := cachedBy(t, w, "globex", a); got != 0 || tier != "" {
		t.Fatalf("other tenant, identical keys: cached %d tier %q, want 0 and none", got, tier)
	}
	keys := prefixcache.BlockKeys(shared, tokenizer.Encode(a), 4)
	if n, err := st.Match("acme", keys); err != nil || n != 6 {
		t.Fatalf("acme's scope holds %d of a's blocks (%v), want 6: the test did not set up a shared key", n, err)
	}
	if g := st.Stats().Tenants["globex"]; g.Hits != 0 {
		t.Errorf("globex hit acme's blocks in L2: %+v", g)
	}
}

// brokenL2 fails every call, as an unreachable tier does.
type brokenL2 struct{}

var errBroken = errors.New("tier unreachable")

func (brokenL2) Match(context.Context, string, []prefixcache.Key) (int, error) { return 0, errBroken }
func (brokenL2) Put(context.Context, string, []prefixcache.Key) error          { return errBroken }

func TestL2FailureIsAMiss(t *testing.T) {
	w := serve(t, tieredOptions(brokenL2{}))
	a := prompt('a', 6*4+1)
	if got, tier := cachedBy(t, w, "acme", a); got != 0 || tier != "" {
		t.Fatalf("cold: cached %d tier %q", got, tier)
	}
	cachedBy(t, w, "acme", prompt('b', 8*4))
	if got, tier := cachedBy(t, w, "acme", a); got != 0 || tier != "" {
		t.Fatalf("evicted, tier down: cached %d tier %q, want a plain miss", got, tier)
	}
	waitFor(t, "failed demotions counted", func() bool { return w.srv.TierStats().DemoteFailed > 0 })
	if ts := w.srv.TierStats(); ts.LookupFailed != 3 || ts.Demoted != 0 || ts.Promoted != 0 {
		t.Errorf("tier stats = %+v, want 3 failed lookups and nothing moved", ts)
	}
}

func TestL2NeedsAnL1(t *testing.T) {
	o := tieredOptions(brokenL2{})
	o.Worker.Engine.PrefixCacheBlocks = 0
	if _, err := New(o); !errors.Is(err, ErrOptions) {
		t.Fatalf("New with L2 and no L1: %v, want ErrOptions", err)
	}
}

func TestEvictionNeverWaitsForDemotion(t *testing.T) {
	l1 := prefixcache.New(1)
	tr, err := newTiers(tieredOptions(brokenL2{}), l1, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	// Nothing drains the queue: evicting more than it holds must drop, not
	// block the inserting goroutine (in production, the engine loop).
	keys := prefixcache.BlockKeys([]byte("s"), tokenizer.Encode(prompt('a', 4*(demoteQueueBlocks+100))), 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l1.InsertFor("acme", keys)
	}()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("InsertFor blocked on a full demotion queue")
	}
	if got, want := tr.stats().DemoteDropped, uint64(len(keys)-1-demoteQueueBlocks); got != want {
		t.Errorf("dropped %d, want %d", got, want)
	}
}
