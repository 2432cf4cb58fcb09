package checks

import (
	"math"
	"testing"
	"time"
)

func TestSignTest(t *testing.T) {
	// 20 of 20 heads: 2^-20.
	if p := SignTestP(20, 20); math.Abs(p-math.Pow(2, -20)) > 1e-12 {
		t.Fatalf("P(20/20) = %g", p)
	}
	if p := SignTestP(0, 20); p != 1 {
		t.Fatalf("P(>=0) = %g", p)
	}
	if p := SignTestP(10, 20); p < 0.5 || p > 0.6 { // 0.588
		t.Fatalf("P(>=10/20) = %g", p)
	}
	if k := SignTestThreshold(20, 0.01); k != 16 { // P(>=16)=0.0059, P(>=15)=0.0207
		t.Fatalf("threshold(20, 0.01) = %d", k)
	}
	if k := SignTestThreshold(5, 0.01); k != 6 {
		t.Fatalf("5 rounds cannot reach 1%%, got threshold %d", k)
	}
}

func TestMaxOverlap(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, int64(ms)*int64(time.Millisecond)) }
	iv := []Interval{{at(0), at(10)}, {at(5), at(15)}, {at(10), at(20)}, {at(12), at(13)}}
	if got := MaxOverlap(iv); got != 3 { // at 12: [5,15], [10,20], [12,13]
		t.Fatalf("MaxOverlap = %d, want 3", got)
	}
	if MaxOverlap(nil) != 0 {
		t.Fatal("empty overlap")
	}
}

func TestQuantiles(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if q := Quantile(ds, 0.99); q != 99*time.Millisecond {
		t.Fatalf("p99 = %v", q)
	}
	b, ok := QuantileUpperBound(ds, 0.9, 0.05)
	if !ok || b < 90*time.Millisecond || b > 97*time.Millisecond {
		t.Fatalf("upper bound of p90 = %v ok=%v", b, ok)
	}
	if _, ok := QuantileUpperBound(ds[:10], 0.99, 0.01); ok {
		t.Fatal("10 samples cannot bound a p99 at 99 % confidence")
	}
}

func TestSignTestPower(t *testing.T) {
	// A fair coin reaching the 1% threshold of 30 rounds is the test's own false-alarm rate.
	need := SignTestThreshold(30, 0.01)
	if p := SignTestPower(30, 0.5, need); math.Abs(p-SignTestP(need, 30)) > 1e-12 {
		t.Fatalf("power at q=0.5 = %g, want the test's alpha %g", p, SignTestP(need, 30))
	}
	// An effect seen in 9 rounds of 10 is found almost surely; one in 3 of 4 often is not.
	if p := SignTestPower(30, 0.9, need); p < 0.97 {
		t.Fatalf("power at q=0.9 = %g", p)
	}
	if p := SignTestPower(30, 0.75, need); p > 0.7 {
		t.Fatalf("power at q=0.75 = %g, want a weak test", p)
	}
	if SignTestPower(30, 1, need) != 1 || SignTestPower(30, 0, need) != 0 || SignTestPower(5, 1, 6) != 0 {
		t.Fatal("edge cases")
	}
}

func TestDiscordantSignTestPower(t *testing.T) {
	// No "b only" rounds: the claim needs 7 "a only" rounds (2^-7 < 0.01), so the power is
	// P(Binomial(30, a) >= 7).
	want := SignTestPower(30, 1.0/3, 7)
	if p := DiscordantSignTestPower(30, 1.0/3, 0, 0.01); math.Abs(p-want) > 1e-9 {
		t.Fatalf("power %g, want %g", p, want)
	}
	// Under the null (a == b) the claim is made at most alpha of the time.
	if p := DiscordantSignTestPower(30, 0.2, 0.2, 0.01); p > 0.01 {
		t.Fatalf("false-alarm rate %g", p)
	}
	if DiscordantSignTestPower(30, 0.6, 0.05, 0.01) < 0.95 || DiscordantSignTestPower(10, 0.1, 0.1, 0.01) > 0.01 {
		t.Fatal("a strong effect is not found, or a null one is")
	}
}
