package traffic

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestLatenciesQuantiles(t *testing.T) {
	var l Latencies
	if l.Quantile(0.5) != 0 || l.Count() != 0 {
		t.Fatal("an empty histogram must report zero")
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w + 1; i <= 1000; i += 4 {
				l.Record(time.Duration(i) * time.Millisecond)
			}
		})
	}
	wg.Wait()
	if l.Count() != 1000 {
		t.Fatalf("count %d, want 1000", l.Count())
	}
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Millisecond, 0.99: 990 * time.Millisecond, 1: time.Second} {
		got := l.Quantile(q)
		if math.Abs(float64(got-want))/float64(want) > 0.001 {
			t.Errorf("q%v = %v, want %v ±0.1%%", q, got, want)
		}
	}
}

func TestLatenciesMergeAndClamp(t *testing.T) {
	var a, b Latencies
	a.Record(time.Millisecond)
	b.Record(2 * time.Minute) // past the range: clamped, still counted
	b.Record(0)
	var wg sync.WaitGroup
	wg.Go(func() { a.Merge(&b) })
	wg.Go(func() { b.Merge(&a) }) // crossed merges must not deadlock
	wg.Wait()
	if a.Count() < 3 || a.Clamped() < 2 {
		t.Fatalf("after merge: count %d clamped %d", a.Count(), a.Clamped())
	}
	if got := a.Quantile(1); got < 59*time.Second || got > 61*time.Second {
		t.Fatalf("max %v, want the 60s ceiling", got)
	}
}
