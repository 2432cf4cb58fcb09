package suites

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/aruntime/arcert/conformance/report"
)

// Times in seconds, shaped like a CPU runtime's: a cached prefill of a few ms, an uncached one of
// about 200 ms, with jitter.
const (
	cachedTTFT = 0.012
	freshTTFT  = 0.2
)

// jittered is t with up to ±30% noise.
func jittered(r *rand.Rand, t float64) float64 { return t * (0.7 + 0.6*r.Float64()) }

// cachedWith returns a draw from r of a probe's TTFT: cached with probability p, else fresh.
func cachedWith(r *rand.Rand) func(p float64) float64 {
	return func(p float64) float64 {
		if r.Float64() < p {
			return jittered(r, cachedTTFT)
		}
		return jittered(r, freshTTFT)
	}
}

// simulate builds n rounds: the control cached with probability controlHit, B's probe of A's
// prompt cached with probability leak, B's null and base always fresh.
func simulate(seed uint64, n int, controlHit, leak float64) []round {
	r := rand.New(rand.NewPCG(seed, 1))
	pick := cachedWith(r)
	rounds := make([]round, n)
	for i := range rounds {
		rounds[i] = round{cached: pick(controlHit), cross: pick(leak), null: jittered(r, freshTTFT), base: jittered(r, freshTTFT)}
	}
	return rounds
}

// slower adds d seconds to every figure of every round.
func slower(rounds []round, d float64) []round {
	for i := range rounds {
		rounds[i].cached += d
		rounds[i].cross += d
		rounds[i].null += d
		rounds[i].base += d
	}
	return rounds
}

func TestJudgeTimingVerdicts(t *testing.T) {
	cases := []struct {
		name     string
		rounds   []round
		unusable int
		want     report.Result
		says     string
	}{
		{"a leak on every probe", simulate(1, 30, 1, 1), 0, report.Fail, "leaks across tenants"},
		// A runtime with several workers: B reaches the one holding A's prefix half the time.
		{"a leak on half the probes", simulate(2, 30, 1, 0.5), 0, report.Fail, "leaks across tenants"},
		{"an isolated cache", simulate(3, 30, 1, 0), 0, report.Pass, ""},
		{"no cache at all", simulate(4, 30, 0, 0), 0, report.Inconclusive, "positive control failed"},
		// The control hit in about three rounds of four: significant, but a leak that strong would
		// be missed too often for its absence to mean anything.
		{"a weak control", simulate(5, 30, 0.76, 0), 0, report.Inconclusive, "too little power"},
		// Every figure of a round is B's, so a slower path for B (a gateway hop) shifts them all
		// and hides nothing.
		{"a leak behind a slower path for B", slower(simulate(7, 30, 1, 1), 0.25), 0, report.Fail, "leaks across tenants"},
		{"an isolated cache behind a slower path", slower(simulate(8, 30, 1, 0), 0.25), 0, report.Pass, ""},
		// Enough rounds to judge, too few to find a leak on a third of B's probes.
		{"usable but underpowered", simulate(9, 24, 1, 0), 0, report.Inconclusive, "too little power"},
		{"too few usable rounds", simulate(6, 20, 1, 0), 10, report.Invalid, "only 20 of 30 rounds"},
		{"nothing usable", nil, 30, report.Invalid, "only 0 of 30"},
	}
	for _, c := range cases {
		v := judgeTiming(c.rounds, c.unusable)
		if v.Result != c.want || !strings.Contains(v.Message, c.says) {
			t.Errorf("%s: %s %q, want %s saying %q\n%s", c.name, v.Result, v.Message, c.want, c.says, v.Evidence)
		}
		if v.Evidence == "" {
			t.Errorf("%s: no evidence line", c.name)
		}
	}
}

// TestJudgeTimingFalseAlarmRate: with an isolated cache, the test fails an honest runtime at most
// about alpha of the time, over many seeds, and passes it most of the time.
func TestJudgeTimingFalseAlarmRate(t *testing.T) {
	const runs = 2000
	fails, passes := 0, 0
	for seed := range uint64(runs) {
		switch judgeTiming(simulate(100+seed, timingRounds, 1, 0), 0).Result {
		case report.Fail:
			fails++
		case report.Pass:
			passes++
		}
	}
	if rate := float64(fails) / runs; rate > 2*timingAlpha {
		t.Fatalf("an isolated cache failed %d of %d runs (%.3f), alpha is %.2f", fails, runs, rate, timingAlpha)
	}
	if passes < runs*95/100 {
		t.Fatalf("an isolated cache passed only %d of %d runs", passes, runs)
	}
}

// TestJudgeTimingFindsPartialLeaks: a leak on a third of B's probes is still found nearly always.
func TestJudgeTimingFindsPartialLeaks(t *testing.T) {
	const runs = 500
	found := 0
	for seed := range uint64(runs) {
		if judgeTiming(simulate(9000+seed, timingRounds, 1, 1.0/3), 0).Result == report.Fail {
			found++
		}
	}
	if found < runs*9/10 {
		t.Fatalf("a leak on a third of the probes was found in only %d of %d runs", found, runs)
	}
}

// TestPromptsCarryTheRunsNonce: the same seed and nonce give the same prompts; another nonce gives
// other prompts, and no two prompts of a run share their first word.
func TestPromptsCarryTheRunsNonce(t *testing.T) {
	saved := env
	defer func() { env = saved }()
	draw := func(nonce string) []string {
		env = &Env{Seed: 7, Nonce: nonce}
		r := rng(3)
		return []string{prompt(r, 50), prompt(r, 50), prompt(r, 50)}
	}
	a, again, other := draw("n1"), draw("n1"), draw("n2")
	firsts := map[string]bool{}
	for i := range a {
		if a[i] != again[i] {
			t.Fatalf("same seed and nonce, prompt %d differs", i)
		}
		if a[i] == other[i] || strings.Fields(a[i])[0] == strings.Fields(other[i])[0] {
			t.Fatalf("another nonce resent prompt %d's first word: %q", i, strings.Fields(a[i])[0])
		}
		if n := len(strings.Fields(a[i])); n != 50 {
			t.Fatalf("prompt %d has %d words", i, n)
		}
		first := strings.Fields(a[i])[0]
		if firsts[first] {
			t.Fatalf("two prompts of one run start with %q", first)
		}
		firsts[first] = true
	}
}

func TestNeedsMoreRoundsOnlyWhenPowerIsShort(t *testing.T) {
	if more, power := needsMoreRounds(simulate(3, 30, 1, 0)); more {
		t.Errorf("a clear cache over 30 rounds (power %.2f): more rounds asked for", power)
	}
	weak := simulate(5, 30, 0.76, 0)
	more, power := needsMoreRounds(weak)
	if !more {
		t.Fatalf("a weak control over 30 rounds (power %.2f): no more rounds asked for", power)
	}
	// The 30 more rounds of the same weak control are what a PASS needed.
	if v := judgeTiming(append(weak, simulate(15, timingMoreRounds, 0.76, 0)...), 0); v.Result != report.Pass {
		t.Errorf("the weak control over 60 rounds: %s %q, want PASS\n%s", v.Result, v.Message, v.Evidence)
	}
	if more, _ := needsMoreRounds(simulate(6, 20, 1, 0)); more {
		t.Error("20 usable rounds: more asked for, which would hide why rounds were unusable")
	}
}

// TestNeedsMoreRoundsIsBlindToWhichProbeIsTheSuspect: swapping every round's cross and null
// probes changes neither the decision nor the power it rests on, which is what keeps alpha.
func TestNeedsMoreRoundsIsBlindToWhichProbeIsTheSuspect(t *testing.T) {
	for seed := range uint64(20) {
		rounds := simulate(100+seed, 30, 0.8, 0.5)
		swapped := slices.Clone(rounds)
		for i := range swapped {
			swapped[i].cross, swapped[i].null = swapped[i].null, swapped[i].cross
		}
		m1, p1 := needsMoreRounds(rounds)
		m2, p2 := needsMoreRounds(swapped)
		if m1 != m2 || p1 != p2 {
			t.Fatalf("seed %d: %t %.4f, swapped %t %.4f", seed, m1, p1, m2, p2)
		}
	}
}

// noisy is simulate on a noisy machine: B's cached repeat looks cached with probability q, and
// its cross and null probes, neither leaked, each look cached with probability f: exchangeable,
// as they are without a leak, but often discordant, so the sign test is really exercised.
func noisy(seed uint64, n int, q, f float64) []round {
	r := rand.New(rand.NewPCG(seed, 2))
	pick := cachedWith(r)
	rounds := make([]round, n)
	for i := range rounds {
		rounds[i] = round{cached: pick(q), cross: pick(f), null: pick(f), base: jittered(r, freshTTFT)}
	}
	return rounds
}

// TestTwoStageFalseAlarmRateStaysAtAlpha runs the whole procedure (30 rounds, 30 more when
// power is short, one test on all) on isolated caches on a noisy machine, where about half the
// runs extend, and counts the FAILs: at most alpha, with room for the simulation's own error.
func TestTwoStageFalseAlarmRateStaysAtAlpha(t *testing.T) {
	const runs = 1000
	fails, extended := 0, 0
	for i := range uint64(runs) {
		rounds := noisy(1000+i, timingRounds, 0.97, 0.05)
		if more, _ := needsMoreRounds(rounds); more {
			extended++
			rounds = append(rounds, noisy(900000+i, timingMoreRounds, 0.97, 0.05)...)
		}
		if judgeTiming(rounds, 0).Result == report.Fail {
			fails++
		}
	}
	if extended < runs/20 || extended > runs*19/20 {
		t.Fatalf("%d of %d runs extended: the simulation does not exercise both stages", extended, runs)
	}
	// alpha 0.01 over 1000 runs: 10 expected at most; 3 standard deviations above is about 19.
	if limit := int(timingAlpha*runs + 3*math.Sqrt(timingAlpha*(1-timingAlpha)*runs)); fails > limit {
		t.Errorf("%d of %d runs FAILed an isolated cache (%d extended): above alpha %.2f (limit %d)", fails, runs, extended, timingAlpha, limit)
	}
	t.Logf("%d of %d runs extended, %d FAILed", extended, runs, fails)
}
