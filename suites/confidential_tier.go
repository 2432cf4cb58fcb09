package suites

import (
	"context"

	"github.com/aruntime/arcert/conformance/driver"
)

// ccWarmShare is the share of the context, in words, of CC-2's warmed prompts: many cache blocks,
// so device pressure that shrinks the attested worker's L1 evicts some of them; ccWarmPrompts of
// them, so a runtime that demotes only some evicted blocks is caught.
const (
	ccWarmShare   = 0.2
	ccWarmPrompts = 3
)

// ccWarmed is a prompt CC-2 warmed before the pressure, and its repeat's cached tokens then.
type ccWarmed struct {
	text   string
	cached int
}

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

// ccWarm sends ccWarmPrompts long prompts of the confidential tenant twice each, so their KV sits
// in the attested worker's L1, and returns them with the repeats' cached tokens (0: nothing was
// cached, and nothing can show where its blocks went under pressure).
func ccWarm(ctx context.Context) []ccWarmed {
	r := rng(0xcc2)
	var out []ccWarmed
	for range ccWarmPrompts {
		text := prompt(r, int(float64(model().ContextLength)*ccWarmShare))
		ccCachedRepeat(ctx, text)
		cached, _ := ccCachedRepeat(ctx, text)
		out = append(out, ccWarmed{text: text, cached: cached})
	}
	return out
}

// ccJudgeDemotion repeats the prompts ccWarm warmed, after pressure shrank the attested workers'
// L1: none of their cached tokens may come from the shared tier (cache_tier l2), which attests
// nothing. The positive control, per prompt, is that its warm repeat had cached tokens and the
// pressure took some from L1 (the repeat has fewer cached tokens, or reads them from l2): an L1
// that kept the whole prefix could not show where evicted blocks go.
func ccJudgeDemotion(ctx context.Context, warmed []ccWarmed) {
	n := 0
	for i, w := range warmed {
		if w.cached == 0 {
			continue
		}
		cached, tier := ccCachedRepeat(ctx, w.text)
		opsCheck(tier != sharedTier, "after device pressure on the attested workers, %d of the cached tokens of the confidential tenant's warmed prompt %d came from the shared tier (cache_tier %q): its KV blocks left attested capacity",
			cached, i, tier)
		if cached < w.cached {
			judged("shared-tier", 1)
			n++
		}
	}
	if n == 0 {
		notProbed("shared-tier", "no warmed prompt of the confidential tenant lost cached tokens to the pressure (or none had any): nothing shows where evicted blocks go")
		return
	}
	evidence("%d of %d warmed prompts of the confidential tenant lost cached tokens from L1 to the pressure, none read any from the shared tier", n, len(warmed))
}
