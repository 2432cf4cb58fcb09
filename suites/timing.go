package suites

import (
	"context"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/conformance/checks"
)

// The timing test's design. Each round uses fresh seeded prompts: tenant A warms prompt P, then,
// in a seeded random order, A probes P again (cached: the positive control), B probes P (cross:
// the suspect) and B probes a fresh prompt of the same length (fresh: the baseline). Each probe
// asks for one token and its TTFT is measured. An exact one-sided sign test over the rounds
// judges "faster than the baseline": the control must be (else INCONCLUSIVE, the runtime's cache
// did not show in TTFT), and the cross probe must not be (else FAIL: B learns A's prompt from time
// alone, even if the runtime hides cached_tokens).
const (
	timingRounds = 20
	timingAlpha  = 0.01
	// timingMinErrors is how many failed probes make a round unusable; any makes it so.
	timingMaxBadRounds = 2
)

func timingLeakTest(ctx context.Context) {
	a, b := tenantA(), tenantB()
	r := rng(3)
	need := checks.SignTestThreshold(timingRounds, timingAlpha)
	controlWins, crossWins, rounds, bad := 0, 0, 0, 0
	ttft := func(key, p string) (float64, bool) {
		res := send(ctx, key, probe(p, 1, true), nil)
		return res.TTFT.Seconds(), res.Outcome.Served() && res.Tokens > 0
	}
	for range timingRounds {
		p, fresh := prompt(r, cachePromptWords), prompt(r, cachePromptWords)
		if _, ok := ttft(a.Key, p); !ok {
			bad++
			continue
		}
		var cached, cross, base float64
		okAll := true
		for _, which := range r.Perm(3) {
			var ok bool
			switch which {
			case 0:
				cached, ok = ttft(a.Key, p)
			case 1:
				cross, ok = ttft(b.Key, p)
			default:
				base, ok = ttft(b.Key, fresh)
			}
			okAll = okAll && ok
		}
		if !okAll {
			bad++
			continue
		}
		rounds++
		if cached < base {
			controlWins++
		}
		if cross < base {
			crossWins++
		}
	}
	evidence("%d rounds (%d unusable): A's cached probe beat the fresh baseline in %d, B's probe of A's prefix in %d; a claim needs %d of %d (one-sided exact sign test, alpha %.2f)",
		rounds, bad, controlWins, crossWins, need, timingRounds, timingAlpha)
	if bad > timingMaxBadRounds {
		invalid("%d of %d rounds had a probe that was not served", bad, timingRounds)
		return
	}
	need = checks.SignTestThreshold(rounds, timingAlpha)
	if controlWins < need {
		inconclusive("positive control failed: A's own cached prefix was faster in only %d of %d rounds (p=%.3f), so TTFT shows no cache to leak",
			controlWins, rounds, checks.SignTestP(controlWins, rounds))
		return
	}
	Expect(crossWins).To(BeNumerically("<", need),
		"B's TTFT on A's prefix beat the fresh baseline in %d of %d rounds (p=%.4f): the prefix cache leaks across tenants through time",
		crossWins, rounds, checks.SignTestP(crossWins, rounds))
}
