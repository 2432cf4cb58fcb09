package driver

import (
	"strings"
	"sync/atomic"
)

// A runtime may run several routers behind its users' load balancer. The driver spreads its
// inference load round-robin over every router it was given, so the certification sees what
// users see: every Do, and every JSON exchange with a completions path (a malformed body sent
// raw), takes the next router, and Result.Endpoint names the router of each Do. Other JSON
// exchanges (discovery, batches, evidence and the operator API) go to the primary router only:
// they read or change the runtime's shared state, and a check that compares two readings (a
// batch submitted then polled, a rollout converging) must not mistake two routers for two states.

// spread is the routers of one Client and the counter that takes turns between them. next is a
// pointer so that At may copy a Client (an atomic must not be copied) and give the copy its own.
type spread struct {
	bases []string
	next  *atomic.Uint64
	// named is set when the Client was given several routers (even if later pinned to one), so
	// its errors say which router failed.
	named bool
	// ready, when set, is a load balancer's view of the routers: pick skips a router it reports
	// not ready (see OnlyReady).
	ready func(base string) bool
}

// WithMoreEndpoints adds further routers of the same runtime (base URLs like New's): Do then
// sends each call to the next router in turn, the primary first. A URL may repeat; each listing
// takes its own turn.
func WithMoreEndpoints(baseURLs ...string) Option {
	return func(c *Client) {
		for _, u := range baseURLs {
			c.routes.bases = append(c.routes.bases, strings.TrimRight(u, "/"))
			c.routes.named = true
		}
	}
}

// pick is the router of the next inference call. It is safe for concurrent use: one atomic
// increment per call, so N calls over k routers split N/k each, whatever their interleaving.
func (s *spread) pick() string {
	if len(s.bases) == 1 {
		return s.bases[0]
	}
	n := s.next.Add(1) - 1
	if s.ready != nil {
		return pickReady(s.bases, n, s.ready)
	}
	return s.bases[n%uint64(len(s.bases))]
}

// forPath is the router of a JSON exchange with path (which may carry a query): the next in turn
// for the completions paths, which are load, else the primary.
func (s *spread) forPath(path string) string {
	p, _, _ := strings.Cut(path, "?")
	if p == PathChatCompletions || p == PathCompletions {
		return s.pick()
	}
	return s.bases[0]
}

// at names router base in an error, " at BASE", when there is more than one to tell apart.
func (c *Client) at(base string) string {
	if !c.routes.named {
		return ""
	}
	return " at " + base
}

// Endpoints lists the base URL of every router the Client spreads calls over, the primary first.
func (c *Client) Endpoints() []string { return append([]string(nil), c.routes.bases...) }

// At returns a Client for router i of Endpoints alone, sharing this one's connections,
// credential and outcome rules: for a check that must talk to one router (the preflight asks
// each one to serve). It panics when i is out of range, a harness bug.
func (c *Client) At(i int) *Client {
	one := *c
	one.routes = spread{bases: []string{c.routes.bases[i]}, next: new(atomic.Uint64), named: c.routes.named}
	return &one
}
