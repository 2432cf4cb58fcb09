// Package traffic generates the load of conformance and chaos runs: seeded open-loop Poisson
// arrivals and closed-loop workers. It only schedules calls. What each call did is recorded by the
// fire function (typically into the outcome ledger) and judged afterwards, so generating load and
// validating it stay separate stages, and a seed alone reproduces a schedule.
package traffic

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the package, reported in Stats.Err or by Lookup.
var (
	// ErrUnbounded refuses a profile with neither Duration nor MaxRequests: a load generator that
	// never stops would outlive the fault window it was meant to observe.
	ErrUnbounded = errors.New("traffic: profile has neither Duration nor MaxRequests")
	// ErrShape refuses a profile that is not exactly one of open loop (Rate) or closed loop
	// (Concurrency), or that has a negative bound.
	ErrShape = errors.New("traffic: profile must set exactly one of Rate and Concurrency")
	// ErrUnknownProfile is returned by Lookup for a name not in the catalogue.
	ErrUnknownProfile = errors.New("traffic: unknown profile")
	// ErrNoCapacity is returned by Lookup when a capacity-relative profile gets no positive
	// declared capacity: "half of nothing" is not a load.
	ErrNoCapacity = errors.New("traffic: profile needs a positive declared capacity")
)

// Profile is one load shape, named and seeded so that a report can say exactly what load a
// result was measured under. Exactly one of Rate and Concurrency is set.
type Profile struct {
	// Name is the catalogue name, or a caller's own label.
	Name string
	// Rate is the mean arrival rate of an open loop in requests per second. Arrivals do not wait
	// for responses, so a slow runtime meets more load, not less (no coordinated omission).
	Rate float64
	// Concurrency is the number of closed-loop workers, each issuing its next request when its
	// last one ends.
	Concurrency int
	// Duration bounds the run in time; 0 means unbounded in time.
	Duration time.Duration
	// MaxRequests bounds the run in requests; 0 means unbounded in count.
	MaxRequests int
	// Seed fixes the arrival schedule (DESIGN.md §3: fixed seeds).
	Seed int64
}

// IsOpenLoop reports whether p is an open-loop (rate) profile, to pick OpenLoop or ClosedLoop.
func (p Profile) IsOpenLoop() bool { return p.Rate > 0 }

// Validate reports whether p can be run: exactly one of Rate and Concurrency, no negative
// bounds, and at least one of Duration and MaxRequests.
func (p Profile) Validate() error {
	if (p.Rate > 0) == (p.Concurrency > 0) || p.Rate < 0 || p.Concurrency < 0 ||
		p.Duration < 0 || p.MaxRequests < 0 {
		return fmt.Errorf("%w: profile %q has rate %g, concurrency %d, duration %v, max requests %d",
			ErrShape, p.Name, p.Rate, p.Concurrency, p.Duration, p.MaxRequests)
	}
	if p.Duration == 0 && p.MaxRequests == 0 {
		return fmt.Errorf("%w: profile %q", ErrUnbounded, p.Name)
	}
	return nil
}

// DefaultSeed is the seed of every catalogue profile. A run's seed goes in its report; change it
// by setting Profile.Seed after Lookup.
const DefaultSeed int64 = 0x61726365 // "arce"

// Named is one entry of the profile catalogue.
type Named struct {
	// Name is the key for Lookup and the label in reports.
	Name string
	// Doc says what the profile is for.
	Doc string
	// RelativeToCapacity reports whether the load scales with the declared capacity.
	RelativeToCapacity bool
	build              func(capacity float64) Profile
}

// catalogue is the list of named profiles. Capacity is the target's declared capacity in requests
// per second; relative profiles mean the same stress for any runtime.
var catalogue = []Named{
	{
		Name: "smoke",
		Doc:  "Two workers, twenty requests: a cheap first contact that shows the runtime answers at all before statistics are worth collecting.",
		build: func(float64) Profile {
			return Profile{Concurrency: 2, MaxRequests: 20, Duration: 30 * time.Second}
		},
	},
	{
		Name:               "steady",
		Doc:                "Half the declared capacity for a minute: the steady-state hypothesis of a game day, where nothing should be shed, so a fault's effect stands out.",
		RelativeToCapacity: true,
		build:              func(c float64) Profile { return Profile{Rate: 0.5 * c, Duration: time.Minute} },
	},
	{
		Name:               "saturate",
		Doc:                "The declared capacity for a minute: what a declared capacity promises, objectives still met.",
		RelativeToCapacity: true,
		build:              func(c float64) Profile { return Profile{Rate: c, Duration: time.Minute} },
	},
	{
		Name:               "overload4x",
		Doc:                "Four times the declared capacity for thirty seconds: admission must shed or reject the excess promptly instead of queueing it without bound.",
		RelativeToCapacity: true,
		build:              func(c float64) Profile { return Profile{Rate: 4 * c, Duration: 30 * time.Second} },
	},
	{
		Name: "concurrency256",
		Doc:  "256 closed-loop workers for a minute, as many as the driver keeps connections for: the concurrency at which latency turns.",
		build: func(float64) Profile {
			return Profile{Concurrency: 256, Duration: time.Minute}
		},
	},
}

// Profiles returns the catalogue, for `arcert catalog` and reports.
func Profiles() []Named { return append([]Named(nil), catalogue...) }

// Lookup builds the named profile for a runtime declaring capacity requests per second.
func Lookup(name string, capacity float64) (Profile, error) {
	for _, n := range catalogue {
		if n.Name != name {
			continue
		}
		if n.RelativeToCapacity && !(capacity > 0) {
			return Profile{}, fmt.Errorf("%w: %q got %g", ErrNoCapacity, name, capacity)
		}
		p := n.build(capacity)
		p.Name, p.Seed = n.Name, DefaultSeed
		return p, nil
	}
	return Profile{}, fmt.Errorf("%w: %q", ErrUnknownProfile, name)
}
