package scenario

import (
	"math/rand/v2"
	"time"
)

// Streams of the seeded generators drawn from one plan seed, kept apart so that adding a fault
// does not move the arrivals and adding a load does not change another load's prompts.
const (
	arrivalStream = 0x6172726976000000 // "arriv": one per phase and load
	probeStream   = 0x70726f6265000000 // "probe": the steady-state probes
)

// seeded returns a generator named by the plan seed and a stream. The schedule must be
// reproducible from its seed, not unpredictable: PCG is the right tool.
func seeded(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream)) //nolint:gosec // see above
}

// requestRand is the generator a request's prompt is drawn from: the plan seed and Seq alone name
// it, whatever order the requests' goroutines run in.
func requestRand(seed int64, seq int) *rand.Rand { return seeded(seed, uint64(seq)) }

// arrivals is one load's open-loop schedule in one phase: a Poisson process of the load's rate,
// ramped linearly from 0 over Ramp by thinning (a candidate at offset t is kept with probability
// t/Ramp), which gives the non-homogeneous Poisson process of the ramped rate.
type arrivals struct {
	load  Load
	phase int
	start time.Time
	end   time.Time
	rng   *rand.Rand
	// next is the next arrival's scheduled time; zero when the schedule is done.
	next time.Time
}

// newArrivals starts the schedule of load (the j-th of phase i) over [start, end).
func newArrivals(seed int64, i, j int, load Load, start, end time.Time) *arrivals {
	a := &arrivals{load: load, phase: i, start: start, end: end, rng: seeded(seed, arrivalStream|uint64(i)<<16|uint64(j))}
	a.next = start
	a.advance()
	return a
}

// advance moves next to the following arrival, or to zero when none is left before end.
func (a *arrivals) advance() {
	if !(a.load.Rate > 0) || a.next.IsZero() {
		a.next = time.Time{}
		return
	}
	t := a.next
	for {
		t = t.Add(time.Duration(a.rng.ExpFloat64() / a.load.Rate * float64(time.Second)))
		if !t.Before(a.end) {
			a.next = time.Time{}
			return
		}
		off := t.Sub(a.start)
		if a.load.Ramp <= 0 || off >= a.load.Ramp || a.rng.Float64() < float64(off)/float64(a.load.Ramp) {
			a.next = t
			return
		}
	}
}
