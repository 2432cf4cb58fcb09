package runtime

import (
	"context"
	"time"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/autoscale"
)

// contendedMark is one worker's health report as an Observe saw it: the report, its Contended
// counter, and how much that grew over the report before it.
type contendedMark struct {
	report  *arcertv1.HealthResponse
	count   uint64
	grew    uint64
	carried bool // grew is the report before's, carried over one Observe without a poll
}

// Observe sums what the group's workers last reported to the router's health polls, and the
// requests that had to wait on them since the previous Observe.
func (g *scaleGroup) Observe(context.Context) autoscale.Observation {
	o := autoscale.Observation{At: time.Now(), Workers: 1 + len(g.instances())}
	seen := map[string]*arcertv1.HealthResponse{}
	for _, w := range g.pool.Workers() {
		if !g.member(w) {
			continue
		}
		h := w.Health()
		if !w.Healthy() || h == nil {
			o.Unobserved++ // its load is not known: not a reason to scale either way
			continue
		}
		o.Waiting += int(h.GetWaiting())
		o.Running += int(h.GetRunning())
		o.Capacity += int(h.GetMaxBatch())
		seen[w.ID] = h
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	marks := make(map[string]contendedMark, len(seen))
	for id, h := range seen {
		before, known := g.contended[id]
		m := contendedMark{report: h, count: h.GetContended()}
		switch {
		case known && before.report == h && !before.carried:
			// No poll since the last Observe (the two tickers run at the same interval, out of
			// phase): the last report's growth still stands for the last poll interval, once.
			m.grew, m.carried = before.grew, true
		case known && before.report == h:
			// Still no poll: the worker's polls stall, and what it queues now is not known.
		default:
			m.grew = contendedSince(before.count, known, m.count)
		}
		marks[id] = m
		o.Contended += int(m.grew)
	}
	g.contended = marks
	return o
}

// contendedSince is how much a worker's Contended counter grew from before to now. A counter
// that went back (the worker restarted) counts from zero; a worker not known at the previous
// Observe counts from its next one, so its whole history is not taken for one burst.
func contendedSince(before uint64, known bool, now uint64) uint64 {
	switch {
	case !known:
		return 0
	case now < before:
		return now
	}
	return now - before
}
