package suites

import (
	"context"
	"fmt"
	"math"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/conformance/checks"
)

// The timing test's design. Each round uses fresh seeded prompts: tenant A warms prompt P, then,
// in a seeded random order, A probes P again (cached: the positive control), B probes P (cross:
// the suspect), and B probes a fresh prompt of the same length (null). Each probe asks for one
// token and its TTFT is measured. A probe "looks cached" when its TTFT is nearer the round's
// cached time than its base time, the TTFT of B's fresh prompt of the round before (the null;
// for the first round, one sent before it). The base is B's own, so whatever sets B's requests
// apart from A's (another region, another route) is in the threshold too; and it is not this
// round's, so this round's cross and null probes meet the same threshold on the same terms.
//
// The control must beat the base in significantly many rounds (exact one-sided sign test), else
// the result is INCONCLUSIVE: TTFT shows no cache to leak. Without a leak, the cross probe and the
// null probe are exchangeable (both are B's uncached prompts), so among the rounds where exactly
// one of them looks cached, each is equally likely to be the one. A cross probe that looks cached
// in significantly more of those rounds than the null (exact sign test, alpha timingAlpha) is a
// leak: FAIL, even when the runtime hides cached_tokens and even when only some of B's requests
// reach the worker that holds A's prefix. The false-alarm rate is at most alpha by construction.
const (
	timingRounds = 30
	timingAlpha  = 0.01
	// timingMaxBadRounds is how many rounds with an unserved probe the test tolerates.
	timingMaxBadRounds = 3
)

// round is one round's TTFTs in seconds.
type round struct{ cached, cross, base, null float64 }

// looksCached reports whether x is nearer the round's cached time than its base time.
func (rd round) looksCached(x float64) bool { return math.Abs(x-rd.cached) < math.Abs(x-rd.base) }

func timingLeakTest(ctx context.Context) {
	rounds, bad := timingRoundsRun(ctx)
	control, crossOnly, nullOnly := 0, 0, 0
	for _, rd := range rounds {
		if rd.cached < rd.base {
			control++
		}
		switch c, n := rd.looksCached(rd.cross), rd.looksCached(rd.null); {
		case c && !n:
			crossOnly++
		case n && !c:
			nullOnly++
		}
	}
	n := len(rounds)
	need := checks.SignTestThreshold(n, timingAlpha)
	discordant := crossOnly + nullOnly
	p := checks.SignTestP(crossOnly, discordant)
	evidence("%d rounds (%d unusable): A's cached probe beat the base in %d (need %d); B's probe of A's prefix looked cached where B's null probe did not in %d rounds, the reverse in %d (one-sided exact sign test p=%.4f, alpha %.2f)",
		n, bad, control, need, crossOnly, nullOnly, p, timingAlpha)
	plotRounds(rounds)
	switch {
	case bad > timingMaxBadRounds:
		invalid("%d of %d rounds had a probe that was not served", bad, timingRounds)
	case control < need:
		inconclusive("positive control failed: A's own cached prefix was faster in only %d of %d rounds (p=%.3f), so TTFT shows no cache to leak",
			control, n, checks.SignTestP(control, n))
	case p <= timingAlpha:
		Fail(fmt.Sprintf("B's TTFT on A's prefix looked cached in %d rounds where its uncached null did not, against %d the other way (p=%.4f): the prefix cache leaks across tenants through time",
			crossOnly, nullOnly, p))
	default:
		judged("http-stream:rounds", n)
	}
}

// timingRoundsRun runs the rounds and returns the usable ones and how many were not.
func timingRoundsRun(ctx context.Context) ([]round, int) {
	a, b := tenantA(), tenantB()
	r := rng(3)
	ttft := func(key, p string) (float64, bool) {
		res := send(ctx, key, probe(p, 1, true), nil)
		return res.TTFT.Seconds(), res.Outcome.Served() && res.Tokens > 0
	}
	var rounds []round
	bad := 0
	base, baseOK := ttft(b.Key, prompt(r, cachePromptWords))
	for range timingRounds {
		p, null := prompt(r, cachePromptWords), prompt(r, cachePromptWords)
		if _, ok := ttft(a.Key, p); !ok {
			bad++
			continue
		}
		rd := round{base: base}
		okAll := baseOK
		nullOK := false
		for _, which := range r.Perm(3) {
			var ok bool
			switch which {
			case 0:
				rd.cached, ok = ttft(a.Key, p)
			case 1:
				rd.cross, ok = ttft(b.Key, p)
			default:
				rd.null, ok = ttft(b.Key, null)
				nullOK = ok
			}
			okAll = okAll && ok
		}
		if nullOK {
			base, baseOK = rd.null, true
		}
		if !okAll {
			bad++
			continue
		}
		rounds = append(rounds, rd)
	}
	return rounds, bad
}
