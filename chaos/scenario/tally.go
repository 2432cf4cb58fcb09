package scenario

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/traffic"
)

// Key names a group of requests: one tenant in one traffic class.
type Key struct {
	Tenant string `json:"tenant"`
	Class  string `json:"class,omitempty"`
}

// Counts is how a group's requests ended.
type Counts struct {
	Requests      int `json:"requests"`
	Served        int `json:"served"`
	Indeterminate int `json:"indeterminate"`
	// Hung counts requests that ended past their deadline plus the run's grace.
	Hung int `json:"hung"`
	// Broken counts determinate requests breaking a ledger invariant: no outcome, an outcome
	// outside the contract, or contract violations.
	Broken int `json:"broken"`
	// HungExample and BrokenExample describe one hung and one broken request, for messages.
	HungExample   string `json:"hung_example,omitempty"`
	BrokenExample string `json:"broken_example,omitempty"`
	// Outcomes counts requests by "class/reason" ("indeterminate" for the indeterminate ones).
	Outcomes map[string]int `json:"outcomes"`
	// ServedBy counts served requests by who served them (outcome.ServedBy's String()).
	ServedBy map[string]int `json:"served_by,omitempty"`
	// P50TTFT, P90TTFT and P99TTFT are over the served requests (0 when none).
	P50TTFT time.Duration `json:"p50_ttft"`
	P90TTFT time.Duration `json:"p90_ttft"`
	P99TTFT time.Duration `json:"p99_ttft"`
}

// ServedShare is Served/Requests, 1 when there were none.
func (c Counts) ServedShare() float64 {
	if c.Requests == 0 {
		return 1
	}
	return float64(c.Served) / float64(c.Requests)
}

// group is a Key's running counts and its TTFT histogram.
type group struct {
	c    Counts
	ttft traffic.Latencies
}

// Tally counts requests per tenant and class as they end, in constant memory per group, so a run
// judges expectations and abort rules without holding its entries. It is safe for concurrent use.
type Tally struct {
	grace time.Duration

	mu     sync.Mutex
	groups map[Key]*group
}

// NewTally returns an empty tally; grace is how far past its deadline a request may end before it
// counts as hung.
func NewTally(grace time.Duration) *Tally {
	return &Tally{grace: grace, groups: map[Key]*group{}}
}

// Add counts one ended request.
func (t *Tally) Add(e ledger.Entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := Key{Tenant: e.Tenant, Class: e.Class}
	g := t.groups[k]
	if g == nil {
		g = &group{c: Counts{Outcomes: map[string]int{}, ServedBy: map[string]int{}}}
		t.groups[k] = g
	}
	g.c.Requests++
	switch {
	case e.Indeterminate:
		g.c.Indeterminate++
		g.c.Outcomes["indeterminate"]++
	default:
		g.c.Outcomes[string(e.Outcome)+"/"+string(e.Reason)]++
		if ps := ledger.OneTerminalOutcome([]ledger.Entry{e}); len(ps) > 0 {
			g.c.Broken++
			if g.c.BrokenExample == "" {
				g.c.BrokenExample = fmt.Sprintf("request #%d: %s", e.Seq, ps[0].Detail)
			}
		}
	}
	if e.Served() {
		g.c.Served++
		g.c.ServedBy[e.ServedBy.String()]++
		g.ttft.Record(e.TTFT)
	}
	if e.Deadline > 0 && e.Latency() > e.Deadline+t.grace {
		g.c.Hung++
		if g.c.HungExample == "" {
			g.c.HungExample = fmt.Sprintf("request #%d took %s against a deadline of %s", e.Seq, e.Latency().Round(time.Millisecond), e.Deadline)
		}
	}
}

// Keys lists the groups seen, sorted by tenant then class.
func (t *Tally) Keys() []Key {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Key
	for k := range t.groups {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b Key) int {
		if a.Tenant != b.Tenant {
			if a.Tenant < b.Tenant {
				return -1
			}
			return 1
		}
		switch {
		case a.Class < b.Class:
			return -1
		case a.Class > b.Class:
			return 1
		}
		return 0
	})
	return out
}

// Of returns the counts of tenant in class, summed over every tenant when tenant is empty and
// every class when class is empty.
func (t *Tally) Of(tenant, class string) Counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := Counts{Outcomes: map[string]int{}, ServedBy: map[string]int{}}
	var ttft traffic.Latencies
	for k, g := range t.groups {
		if (tenant != "" && k.Tenant != tenant) || (class != "" && k.Class != class) {
			continue
		}
		out.Requests += g.c.Requests
		out.Served += g.c.Served
		out.Indeterminate += g.c.Indeterminate
		out.Hung += g.c.Hung
		out.Broken += g.c.Broken
		out.HungExample = firstOf(out.HungExample, g.c.HungExample)
		out.BrokenExample = firstOf(out.BrokenExample, g.c.BrokenExample)
		for o, n := range g.c.Outcomes {
			out.Outcomes[o] += n
		}
		for s, n := range g.c.ServedBy {
			out.ServedBy[s] += n
		}
		ttft.Merge(&g.ttft)
	}
	if out.Served > 0 {
		out.P50TTFT, out.P90TTFT, out.P99TTFT = ttft.Quantile(0.5), ttft.Quantile(0.9), ttft.Quantile(0.99)
	}
	return out
}

// firstOf is the smaller of two non-empty examples (so Of's merge does not depend on map order),
// or the non-empty one.
func firstOf(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || a < b:
		return a
	}
	return b
}
