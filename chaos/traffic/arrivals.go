package traffic

import (
	"math/rand/v2"
	"time"
)

// pcgStream is the second PCG word. It is fixed so that the seed alone names a schedule.
const pcgStream = 0x6172636572740a // "arcert\n"

// Arrivals returns the first n inter-arrival gaps of the Poisson process OpenLoop runs for seed
// and rate (requests per second): gaps[i] is the wait before request i, measured from request
// i-1 (or from the start). The same seed gives the same schedule, so a failing run can be replayed;
// it is nil when rate is not positive.
func Arrivals(seed int64, rate float64, n int) []time.Duration {
	if !(rate > 0) || n <= 0 {
		return nil
	}
	next := arrivals(seed, rate)
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = next()
	}
	return out
}

// arrivals returns the generator behind Arrivals: exponential gaps of mean 1/rate seconds.
func arrivals(seed int64, rate float64) func() time.Duration {
	// A schedule must be reproducible from its seed, not unpredictable: PCG is the right tool.
	rng := rand.New(rand.NewPCG(uint64(seed), pcgStream)) //nolint:gosec // see above
	return func() time.Duration {
		return time.Duration(rng.ExpFloat64() / rate * float64(time.Second))
	}
}
