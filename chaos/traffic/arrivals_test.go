package traffic

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestArrivalsReproducible(t *testing.T) {
	a, b := Arrivals(42, 100, 1000), Arrivals(42, 100, 1000)
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different schedules")
	}
	if slices.Equal(a, Arrivals(43, 100, 1000)) {
		t.Fatal("different seeds gave the same schedule")
	}
	// A longer schedule extends a shorter one: replaying n requests needs no other state.
	if !slices.Equal(a[:10], Arrivals(42, 100, 10)) {
		t.Fatal("prefix of the schedule changed with n")
	}
	if Arrivals(42, 0, 10) != nil || Arrivals(42, 100, 0) != nil {
		t.Fatal("a zero rate or count must give no schedule")
	}
}

func TestArrivalsMean(t *testing.T) {
	const rate, n = 500.0, 100_000
	var sum time.Duration
	for _, g := range Arrivals(7, rate, n) {
		if g < 0 {
			t.Fatalf("negative gap %v", g)
		}
		sum += g
	}
	mean, want := sum.Seconds()/n, 1/rate
	// The standard error of the mean of n exponential gaps is want/sqrt(n), about 0.3% here.
	if math.Abs(mean-want)/want > 0.02 {
		t.Fatalf("mean gap %.6fs, want %.6fs ±2%%", mean, want)
	}
}
