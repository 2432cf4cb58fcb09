package suites

import (
	"context"

	"github.com/aruntime/arcert/conformance/driver"
)

// ccWarmShare is the share of the context, in words, of CC-2's warmed prompt: many cache blocks,
// so device pressure that shrinks the attested worker's L1 evicts some of them.
const ccWarmShare = 0.25

// ccCachedRepeat sends text as the confidential tenant and returns its cached prompt tokens and
// the tier its evidence says they came from.
func ccCachedRepeat(ctx context.Context, text string) (cached int, tier string) {
	res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: ccTenant().Key, Body: probe(text, 1, false)})
	opsCheck(err == nil, "a cached prompt of the confidential tenant could not be exchanged: %v", err)
	opsCheck(res.Outcome.Served(), "a cached prompt of the confidential tenant ended %s/%s", res.Outcome, res.Reason)
	if recs := evidenceFor(ctx, ccTenant().Key, res.RequestID); len(recs) > 0 {
		tier = recs[0].CacheTier
	}
	return cachedOf(res), tier
}

// ccWarm sends a long prompt of the confidential tenant twice, so its KV sits in the attested
// worker's L1, and returns the prompt and the repeat's cached tokens (0: nothing was cached, and
// nothing can show where the blocks went under pressure).
func ccWarm(ctx context.Context) (string, int) {
	text := prompt(rng(0xcc2), int(float64(model().ContextLength)*ccWarmShare))
	ccCachedRepeat(ctx, text)
	cached, _ := ccCachedRepeat(ctx, text)
	return text, cached
}

// ccJudgeDemotion repeats the prompt ccWarm warmed, after pressure shrank the attested workers'
// L1: none of its cached tokens may come from the shared tier (cache_tier l2), which attests
// nothing. The positive control is that the warm repeat had cached tokens and the pressure took
// some from L1 (the repeat has fewer cached tokens, or reads them from l2): an L1 that kept the
// whole prefix could not show where evicted blocks go.
func ccJudgeDemotion(ctx context.Context, text string, warmCached int) {
	if warmCached == 0 {
		notProbed("shared-tier", "the confidential tenant's warmed repeat showed no cached tokens: nothing could be demoted")
		return
	}
	cached, tier := ccCachedRepeat(ctx, text)
	opsCheck(tier != sharedTier, "after device pressure on the attested workers, %d of the confidential tenant's cached prompt tokens came from the shared tier (cache_tier %q): its KV blocks left attested capacity",
		cached, tier)
	if cached >= warmCached {
		notProbed("shared-tier", "after the pressure the confidential tenant's repeat still had %d of %d cached tokens from %q: the L1 kept the prefix, so nothing shows where evicted blocks go", cached, warmCached, tier)
		return
	}
	judged("shared-tier", 1)
	evidence("the confidential tenant's warmed prompt (%d cached tokens) had %d after pressure evicted it from L1, none from the shared tier", warmCached, cached)
}
