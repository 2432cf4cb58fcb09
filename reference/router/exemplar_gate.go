package router

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// exemplarRefresh is how often an exemplar of one histogram series may replace the one held for
// a band of latencies. A classic histogram keeps one exemplar per bucket, the latest, and a
// scraper reads it every few seconds at the soonest: replacing it on every request (client_golang
// builds it anew, about 15 allocations, each time) bought nothing but garbage, a twentieth of a
// request's allocations at 10,000/s. A rare latency still gets its exemplar at once, since its
// band was not refreshed lately; a common one's exemplar is at most this old.
const exemplarRefresh = 250 * time.Millisecond

// exemplarBands splits every doubling of latency in this many bands, finer than any histogram's
// buckets (theirs are a factor of 2 to 2.5 apart), so a band never hides a bucket's exemplar
// behind a neighbouring bucket's.
const exemplarBands = 8

const exemplarSlots = 64 * exemplarBands

// exemplarGates holds a gate per histogram series (the Observer WithLabelValues returns, which
// client_golang keeps for the series' life): a bounded set, tenants × classes × histograms.
var exemplarGates sync.Map // prometheus.Observer -> *exemplarGate

// exemplarGate remembers, per band of latencies, when an exemplar was last attached.
type exemplarGate struct {
	last [exemplarSlots]atomic.Int64 // unix nanoseconds
}

// exemplarDue reports whether an observation of d on o should carry its exemplar now, and if so
// marks its band refreshed.
func exemplarDue(o prometheus.Observer, d time.Duration, now time.Time) bool {
	g, ok := exemplarGates.Load(o)
	if !ok {
		g, _ = exemplarGates.LoadOrStore(o, new(exemplarGate))
	}
	slot := &g.(*exemplarGate).last[exemplarBand(d)]
	prev, t := slot.Load(), now.UnixNano()
	if prev != 0 && t-prev < int64(exemplarRefresh) {
		return false
	}
	return slot.CompareAndSwap(prev, t)
}

// exemplarBand is d's band: its power of two and the next three bits below the leading one.
func exemplarBand(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	frac, exp := math.Frexp(float64(d)) // d = frac × 2^exp, frac in [0.5, 1)
	sub := int((frac - 0.5) * 2 * exemplarBands)
	return min(exp, 63)*exemplarBands + min(sub, exemplarBands-1)
}
