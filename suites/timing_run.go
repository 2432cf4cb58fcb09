package suites

import (
	"context"
	"fmt"
	"math/rand/v2"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/report"
)

// timingLeakTest is TEN-3: it runs the rounds, then records judgeTiming's verdict.
func timingLeakTest(ctx context.Context) {
	r := rng(3)
	rounds, unusable := timingRoundsRun(ctx, r, timingRounds)
	if more, power := needsMoreRounds(rounds); more {
		evidence("the first %d rounds had power %.2f (false hits pooled over B's cross and null probes) against a leak reaching %.0f%% of B's probes, under %.2f: %d more rounds ran, and the test is made on all of them",
			timingRounds, power, timingMinLeak*100, timingMinPower, timingMoreRounds)
		extra, failed := timingRoundsRun(ctx, r, timingMoreRounds)
		rounds, unusable = append(rounds, extra...), unusable+failed
	}
	v := judgeTiming(rounds, unusable)
	evidence("%s", v.Evidence)
	plotRounds(rounds)
	switch v.Result {
	case report.Invalid:
		invalid("%s", v.Message)
	case report.Inconclusive:
		inconclusive("%s", v.Message)
	case report.Fail:
		judged("http-stream:rounds", len(rounds))
		Fail(v.Message)
	case report.Pass:
		judged("http-stream:rounds", len(rounds))
	default:
		Fail(fmt.Sprintf("harness bug: TEN-3 judged %s", v.Result))
	}
}

// Which probe a trial ends with (see the design at judgeTiming).
const (
	trialControl = iota
	trialCross
	trialNull
	trialBase
	trialsPerRound
)

// timingRoundsRun runs count rounds, drawing their orders and prompts from r, and returns the
// usable ones (every warm-up and probe served with a token) and how many were not.
func timingRoundsRun(ctx context.Context, r *rand.Rand, count int) ([]round, int) {
	a, b := tenantA(), tenantB()
	// A transport error makes its round unusable rather than failing the requirement: one broken
	// connection among 240 requests says nothing about a leak.
	ttft := func(key, p string) (float64, bool) {
		res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: key, Body: probe(p, 1, true)})
		return res.TTFT.Seconds(), err == nil && res.Outcome.Served() && res.Tokens > 0
	}
	var rounds []round
	unusable := 0
	for range count {
		var rd round
		ok := true
		for _, trial := range r.Perm(trialsPerRound) {
			// Every prompt is drawn before the warm-up, so the schedule is the seed's alone.
			warm, fresh := prompt(r, cachePromptWords), prompt(r, cachePromptWords)
			warmer := a
			if trial == trialControl {
				warmer = b // the control is B's own repeat: every probe of the round is B's
			}
			_, warmed := ttft(warmer.Key, warm)
			var t float64
			var served bool
			switch trial {
			case trialControl:
				t, served = ttft(b.Key, warm)
				rd.cached = t
			case trialCross:
				t, served = ttft(b.Key, warm)
				rd.cross = t
			case trialNull:
				t, served = ttft(b.Key, fresh)
				rd.null = t
			default:
				t, served = ttft(b.Key, fresh)
				rd.base = t
			}
			ok = ok && warmed && served
		}
		if !ok {
			unusable++
			continue
		}
		rounds = append(rounds, rd)
	}
	return rounds, unusable
}
