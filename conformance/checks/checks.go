// Package checks holds the pure functions certification judges with: statistics with stated
// confidence, and properties of recorded traffic. They take recorded data and return numbers, so
// every verdict can be recomputed from a ledger and tested without a runtime.
package checks

import (
	"math"
	"sort"
	"time"
)

// SignTestP is the one-sided p-value of an exact sign test: the probability of at least k
// successes in n fair coin flips. A small value says "more often than chance".
func SignTestP(k, n int) float64 {
	if n <= 0 || k <= 0 {
		return 1
	}
	if k > n {
		return 0
	}
	p := 0.0
	for i := k; i <= n; i++ {
		p += math.Exp(lchoose(n, i) - float64(n)*math.Ln2)
	}
	return math.Min(p, 1)
}

// SignTestThreshold is the smallest k whose SignTestP(k, n) is at most alpha: how many of n rounds
// must agree before a claim holds at that confidence. It returns n+1 when no k is enough, which
// means n rounds are too few (a validity gate).
func SignTestThreshold(n int, alpha float64) int {
	for k := 0; k <= n; k++ {
		if SignTestP(k, n) <= alpha {
			return k
		}
	}
	return n + 1
}

// SignTestPower is the probability that a sign test over n rounds, needing need agreeing rounds,
// reaches its threshold when each round agrees with probability q: the power of the test against
// an effect of that size. A PASS from a test that could not have seen the effect it looks for is
// no evidence, so a caller checks the power at the effect its positive control showed.
func SignTestPower(n int, q float64, need int) float64 {
	switch {
	case need <= 0:
		return 1
	case need > n || q <= 0:
		return 0
	case q >= 1:
		return 1
	}
	p := 0.0
	for k := need; k <= n; k++ {
		p += math.Exp(lchoose(n, k) + float64(k)*math.Log(q) + float64(n-k)*math.Log1p(-q))
	}
	return math.Min(p, 1)
}

func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// Interval is one request's time in flight as the client saw it.
type Interval struct{ Start, End time.Time }

// MaxOverlap is the largest number of intervals in flight at one instant.
func MaxOverlap(iv []Interval) int {
	peak := 0
	for _, c := range InFlight(iv) {
		peak = max(peak, c.N)
	}
	return peak
}

// Count is how many intervals are in flight from At on, until the next Count.
type Count struct {
	At time.Time
	N  int
}

// InFlight is the number of intervals in flight over time: one Count at each start and end, in
// time order. Ends sort before starts at the same instant: a slot freed and retaken is not two
// at once.
func InFlight(iv []Interval) []Count {
	type edge struct {
		at    time.Time
		delta int
	}
	edges := make([]edge, 0, 2*len(iv))
	for _, i := range iv {
		edges = append(edges, edge{i.Start, 1}, edge{i.End, -1})
	}
	sort.Slice(edges, func(a, b int) bool {
		if edges[a].at.Equal(edges[b].at) {
			return edges[a].delta < edges[b].delta
		}
		return edges[a].at.Before(edges[b].at)
	})
	out := make([]Count, len(edges))
	cur := 0
	for k, e := range edges {
		cur += e.delta
		out[k] = Count{At: e.at, N: cur}
	}
	return out
}

// Quantile is the q-quantile (0..1) of ds by the nearest-rank method; 0 for no samples.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// QuantileUpperBound is a distribution-free upper confidence bound on the q-quantile: the
// order statistic below which the true q-quantile lies with probability at least 1-alpha (the
// binomial method MLPerf LoadGen's early stopping rests on). ok is false when there are too few
// samples for that confidence, which is a validity gate, not a pass.
func QuantileUpperBound(ds []time.Duration, q, alpha float64) (bound time.Duration, ok bool) {
	n := len(ds)
	if n == 0 {
		return 0, false
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	// Smallest j with P(Binomial(n, q) < j) >= 1-alpha: then s[j-1] bounds the quantile.
	cum := 0.0
	for j := 0; j < n; j++ {
		cum += math.Exp(lchoose(n, j) + float64(j)*math.Log(q) + float64(n-j)*math.Log1p(-q))
		if cum >= 1-alpha {
			return s[j], true
		}
	}
	return s[n-1], false
}

// DiscordantSignTestPower is the power of the sign test on discordant pairs: over n rounds, each
// round is "a only" with probability a, "b only" with probability b, else concordant (dropped);
// the test claims "a more often than b" when the one-sided exact p of the a-only count among the
// discordant rounds is at most alpha. The power is the probability of that claim, summed exactly
// over the multinomial outcomes.
func DiscordantSignTestPower(n int, a, b, alpha float64) float64 {
	if n <= 0 || a <= 0 {
		return 0
	}
	c := math.Max(0, 1-a-b)
	logp := func(x float64, k int) float64 {
		if k == 0 {
			return 0
		}
		if x <= 0 {
			return math.Inf(-1)
		}
		return float64(k) * math.Log(x)
	}
	power := 0.0
	for k := 1; k <= n; k++ {
		for j := 0; k+j <= n; j++ {
			if SignTestP(k, k+j) > alpha {
				continue
			}
			rest := n - k - j
			lf, _ := math.Lgamma(float64(n + 1))
			lk, _ := math.Lgamma(float64(k + 1))
			lj, _ := math.Lgamma(float64(j + 1))
			lr, _ := math.Lgamma(float64(rest + 1))
			power += math.Exp(lf - lk - lj - lr + logp(a, k) + logp(b, j) + logp(c, rest))
		}
	}
	return math.Min(power, 1)
}
