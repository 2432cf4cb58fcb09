package traffic

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The range and precision of a Latencies histogram: 1µs resolves the fastest cache hit, 60s is
// past any deadline a traffic class declares, and three significant figures keep a percentile
// within 0.1% while the histogram stays about 140 KiB.
const (
	latencyUnit    = time.Microsecond
	latencyMax     = 60 * time.Second
	latencySigFigs = 3
)

// Latencies is a concurrency-safe latency histogram (HdrHistogram, 1µs..60s, 3 significant
// figures), so percentiles over millions of requests cost constant memory and the checks can
// state a percentile with a known error. The zero value is ready to use; do not copy one.
type Latencies struct {
	mu      sync.Mutex
	h       *hdrhistogram.Histogram
	clamped int64
}

// histogram returns l's histogram, creating it on first use; l.mu must be held.
func (l *Latencies) histogram() *hdrhistogram.Histogram {
	if l.h == nil {
		l.h = hdrhistogram.New(1, int64(latencyMax/latencyUnit), latencySigFigs)
	}
	return l.h
}

// Record adds one latency. Values outside 1µs..60s are clamped to the range and counted by
// Clamped, so a validity gate can refuse a run whose tail fell off the histogram.
func (l *Latencies) Record(d time.Duration) {
	v, clamped := int64(d/latencyUnit), false
	if v < 1 {
		v, clamped = 1, true
	}
	if hi := int64(latencyMax / latencyUnit); v > hi {
		v, clamped = hi, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.histogram().RecordValue(v) // cannot fail: v is in range
	if clamped {
		l.clamped++
	}
}

// Quantile returns the latency at quantile q in [0, 1] (0.99 is p99); 0 when nothing is recorded.
func (l *Latencies) Quantile(q float64) time.Duration {
	q = min(max(q, 0), 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Duration(l.histogram().ValueAtQuantile(q*100)) * latencyUnit
}

// Count returns how many latencies were recorded.
func (l *Latencies) Count() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.histogram().TotalCount()
}

// Clamped returns how many recorded latencies fell outside 1µs..60s.
func (l *Latencies) Clamped() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clamped
}

// Merge adds every latency of other into l, e.g. per-worker histograms into a run's. other is
// copied under its own lock first, so concurrent a.Merge(b) and b.Merge(a) cannot deadlock.
func (l *Latencies) Merge(other *Latencies) {
	other.mu.Lock()
	snap := hdrhistogram.Import(other.histogram().Export())
	clamped := other.clamped
	other.mu.Unlock()

	l.mu.Lock()
	defer l.mu.Unlock()
	l.histogram().Merge(snap)
	l.clamped += clamped
}
