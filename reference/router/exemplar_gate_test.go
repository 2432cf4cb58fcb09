package router

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestExemplarGateRefreshesEachBandAtMostOnce: within exemplarRefresh a series' band takes one
// exemplar, a latency in another band (a rare slow request) takes its own at once, and after the
// refresh interval the common band takes a new one.
func TestExemplarGateRefreshesEachBandAtMostOnce(t *testing.T) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gate_test_seconds"})
	now := time.Unix(1_000_000, 0)
	steps := []struct {
		d    time.Duration
		at   time.Duration
		want bool
	}{
		{time.Millisecond, 0, true},
		{time.Millisecond + time.Microsecond, time.Millisecond, false}, // same band, too soon
		{3 * time.Second, 2 * time.Millisecond, true},                  // a rare slow one
		{1300 * time.Microsecond, 3 * time.Millisecond, true},          // the next band up
		{time.Millisecond, exemplarRefresh + time.Millisecond, true},   // refreshed
	}
	for i, s := range steps {
		if got := exemplarDue(h, s.d, now.Add(s.at)); got != s.want {
			t.Errorf("step %d (%v at +%v): due %v, want %v", i, s.d, s.at, got, s.want)
		}
	}
	if other := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gate_test_other_seconds"}); !exemplarDue(other, time.Millisecond, now) {
		t.Error("another series shares the first one's gate")
	}
}

func TestExemplarBandsAreOrderedAndBounded(t *testing.T) {
	prev := -1
	for d := time.Duration(1); d < 1<<59; d = d*9/8 + 1 {
		b := exemplarBand(d)
		if b < prev || b >= exemplarSlots {
			t.Fatalf("band of %v is %d after %d (of %d)", d, b, prev, exemplarSlots)
		}
		prev = b
	}
}
