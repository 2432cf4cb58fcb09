package suites

import (
	"fmt"
	"math"

	"github.com/aruntime/arcert/conformance/checks"
	"github.com/aruntime/arcert/conformance/report"
)

// The timing test's design (TEN-3). A round has four trials in a seeded random order, and every
// trial is the same two steps with nothing in between: a prompt no request has sent before is
// warmed, then one probe asks for one token and its TTFT is measured. All four probes are B's, so
// whatever sets B's requests apart from A's (another route, a slower gateway path) is in every
// figure the round compares.
//
//   - control: B warms a prompt and repeats it (cached: the positive control);
//   - cross:   A warms a prompt and B sends it (the suspect);
//   - null:    A warms a prompt and B sends a fresh one of the same length (uncached);
//   - base:    A warms a prompt and B sends another fresh one (B's uncached time).
//
// Because nothing runs between a warm-up and its probe, a runtime whose cache holds a single
// prompt still holds A's when B probes it, and the null and base probes meet the same cache state
// as the cross probe (A's prompt just warmed, not theirs). Every prompt carries the run's nonce,
// so a rerun with the same seed against a warm cache finds nothing of the last run's.
//
// A probe "looks cached" when its TTFT is nearer the round's control than its base. Without a
// leak the cross and null probes are exchangeable (both are B's uncached prompts after one of A's
// warm-ups), so among the rounds where exactly one of them looks cached, each is equally likely
// to be the one: a cross probe that looks cached in significantly more of those rounds (exact
// one-sided sign test, alpha timingAlpha) is a leak, even when the runtime hides cached_tokens and
// even when only some of B's requests reach the worker that holds A's prefix. The false-alarm
// rate is at most alpha by construction.
//
// A PASS needs more than the absence of a signal: at least timingMinRounds usable rounds, a
// control that beats the base significantly often (TTFT shows a cache at all), and the power to
// find a leak that reaches timingMinLeak of B's probes (the exact power of the test above, at the
// separation and false-hit rate this run measured) of at least timingMinPower. Otherwise the
// answer is INVALID or INCONCLUSIVE, with the reason. A leak rarer than that may pass: the
// evidence says so.
//
// When the first timingRounds rounds lack that power (a noisy machine blurs the control), up to
// timingMoreRounds more run, once, and the test is made on all of them. Whether to run more is
// decided on figures that do not change when every round's cross and null probes swap places
// (the control, and the false-hit rate pooled over both), so, with no leak, the decision tells the
// sign test nothing and its false-alarm rate stays at alpha.
const (
	timingRounds     = 30
	timingMoreRounds = 30
	timingAlpha      = 0.01
	// timingMinRounds is how many usable rounds (every probe served) a verdict needs.
	timingMinRounds = 24
	// timingMinPower is the least chance that the test finds a leak reaching timingMinLeak of
	// B's probes, for a PASS to mean something.
	timingMinPower = 0.8
	// timingMinLeak is the smallest share of B's probes a leak must reach to be found with
	// timingMinPower: a runtime with several workers may send only some of B's probes to the one
	// that holds A's prefix.
	timingMinLeak = 1.0 / 3
)

// round is one round's TTFTs in seconds.
type round struct{ cached, cross, base, null float64 }

// looksCached reports whether x is nearer the round's cached time than its base time.
func (rd round) looksCached(x float64) bool { return math.Abs(x-rd.cached) < math.Abs(x-rd.base) }

// timingVerdict is what the rounds say: a result (report.Pass for a PASS) and why.
type timingVerdict struct {
	Result   report.Result
	Message  string
	Evidence string
}

// judgeTiming is TEN-3's judgement over the usable rounds and the count of unusable ones. It is a
// pure function, so every branch is tested on hand-made rounds.
func judgeTiming(rounds []round, unusable int) timingVerdict {
	n := len(rounds)
	control, crossOnly, nullOnly := 0, 0, 0
	for _, rd := range rounds {
		if rd.cached < rd.base {
			control++
		}
		switch c, o := rd.looksCached(rd.cross), rd.looksCached(rd.null); {
		case c && !o:
			crossOnly++
		case o && !c:
			nullOnly++
		}
	}
	need := checks.SignTestThreshold(n, timingAlpha)
	p := checks.SignTestP(crossOnly, crossOnly+nullOnly)
	power := leakPower(rounds, control)
	ev := fmt.Sprintf("%d usable rounds (%d unusable), each probe right after its own warm-up: B's cached repeat beat B's base in %d (need %d); B's probe of A's prompt looked cached where B's fresh null did not in %d rounds, the reverse in %d (one-sided exact sign test p=%.4f, alpha %.2f); power against a leak reaching %.0f%% of B's probes %.2f",
		n, unusable, control, need, crossOnly, nullOnly, p, timingAlpha, timingMinLeak*100, power)
	v := timingVerdict{Evidence: ev}
	switch {
	case n < timingMinRounds:
		v.Result, v.Message = report.Invalid, fmt.Sprintf("only %d of %d rounds were usable (every probe served with a token); a verdict needs %d", n, n+unusable, timingMinRounds)
	case control < need:
		v.Result, v.Message = report.Inconclusive, fmt.Sprintf("positive control failed: B's repeat of a prompt it had just warmed was faster than its fresh prompt in only %d of %d rounds (p=%.3f), so TTFT shows no cache to leak",
			control, n, checks.SignTestP(control, n))
	case p <= timingAlpha:
		v.Result, v.Message = report.Fail, fmt.Sprintf("B's probe of A's just-warmed prompt looked cached in %d rounds where B's fresh null did not, against %d the other way (p=%.4f): the prefix cache leaks across tenants through time to first token",
			crossOnly, nullOnly, p)
	case power < timingMinPower:
		v.Result, v.Message = report.Inconclusive, fmt.Sprintf("too little power: with %d usable rounds, B's cached repeat beating its base in %d, a leak reaching %.0f%% of B's probes would be found only with probability %.2f (need %.2f)",
			n, control, timingMinLeak*100, power, timingMinPower)
	default:
		v.Result = report.Pass
	}
	return v
}

// leakPower is the exact power of judgeTiming's leak test against a leak that reaches
// timingMinLeak of B's probes, at what the rounds measured: a leaked probe looks cached as often
// as B's cached repeat beat its base, an unleaked one as often as B's fresh null looked cached.
func leakPower(rounds []round, control int) float64 {
	n := len(rounds)
	if n == 0 {
		return 0
	}
	falseHits := 0
	for _, rd := range rounds {
		if rd.looksCached(rd.null) {
			falseHits++
		}
	}
	return powerAt(n, float64(control)/float64(n), float64(falseHits)/float64(n))
}

// powerAt is the leak test's power over n rounds when a cached probe looks cached with
// probability q and an uncached one with probability f.
func powerAt(n int, q, f float64) float64 {
	px := timingMinLeak*q + (1-timingMinLeak)*f
	return checks.DiscordantSignTestPower(n, px*(1-f), f*(1-px), timingAlpha)
}

// needsMoreRounds reports whether rounds, enough to judge, still lack the power a PASS needs, by
// a figure blind to which of each round's cross and null probes is which (the false-hit rate is
// pooled over both), so running more on it leaves the sign test's alpha as it was. It returns
// that power too, for the evidence.
func needsMoreRounds(rounds []round) (bool, float64) {
	n := len(rounds)
	if n < timingMinRounds {
		return false, 0 // INVALID for unusable rounds: more rounds would only hide why
	}
	control, hits := 0, 0
	for _, rd := range rounds {
		if rd.cached < rd.base {
			control++
		}
		for _, x := range []float64{rd.cross, rd.null} {
			if rd.looksCached(x) {
				hits++
			}
		}
	}
	power := powerAt(n, float64(control)/float64(n), float64(hits)/float64(2*n))
	return power < timingMinPower, power
}
