package scenario

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
)

// steadyPoll is the pause between two steady-state probes of a tenant: often enough to measure
// recovery to a tenth of a second, rarely enough not to load a recovering runtime.
const steadyPoll = 50 * time.Millisecond

// steadyCheck is one steady-state check and when it was reached.
type steadyCheck struct {
	rec     SteadyRecord
	reached time.Time
}

// steady checks the hypothesis: every tenant serves Probes probes in a row, all within budget of
// the check's start. Before the run (tolerances true) each tenant's probes must also meet its
// served share and p90 TTFT; after rollback only the streak is asked for, since probes that fail
// while the runtime recovers are what recovery measures.
func (r *runner) steady(ctx context.Context, budget time.Duration, tolerances bool) steadyCheck {
	st := r.plan.Steady
	start := r.clock.Now()
	out := steadyCheck{rec: SteadyRecord{Start: start}, reached: start}
	until := start.Add(budget)
	var problems []string
	for _, t := range st.Tenants {
		tally := NewTally(r.grace)
		streak, n := 0, 0
		for streak < st.Probes {
			if !r.clock.Now().Before(until) || ctx.Err() != nil {
				break
			}
			n++
			e := r.probe(ctx, t, n)
			tally.Add(e)
			if st.counts(e) {
				streak++
				continue
			}
			streak = 0
			select {
			case <-r.clock.After(steadyPoll):
			case <-ctx.Done():
			}
		}
		c := tally.Of(t.Tenant, t.Class)
		out.rec.Tenants = append(out.rec.Tenants, GroupCounts{Key: Key{Tenant: t.Tenant, Class: t.Class}, Counts: c})
		switch {
		case streak < st.Probes:
			problems = append(problems, fmt.Sprintf("%s did not serve %d probes in a row within %s: %d probes, %d served (%s)",
				t.Tenant, st.Probes, budget, c.Requests, c.Served, outcomesText(c.Outcomes)))
		case tolerances && t.MinServed > 0 && c.ServedShare() < t.MinServed:
			problems = append(problems, fmt.Sprintf("%s served %.0f%% of its probes, need %.0f%%", t.Tenant, 100*c.ServedShare(), 100*t.MinServed))
		case tolerances && t.MaxP90TTFT > 0 && c.P90TTFT > t.MaxP90TTFT:
			problems = append(problems, fmt.Sprintf("%s's probes' p90 TTFT is %s, above %s", t.Tenant, c.P90TTFT.Round(time.Millisecond), t.MaxP90TTFT))
		}
	}
	out.reached = r.clock.Now()
	out.rec.End = out.reached
	switch {
	case len(problems) > 0:
		out.rec.Result = Result{Verdict: Invalid, Message: "no steady state: " + strings.Join(problems, "; ")}
	case len(st.Tenants) == 0:
		out.rec.Result = Result{Verdict: Pass, Message: "no steady-state probes declared"}
	default:
		out.rec.Result = Result{Verdict: Pass, Message: fmt.Sprintf("every tenant served %d probes in a row within %s", st.Probes, out.reached.Sub(start).Round(time.Millisecond))}
	}
	res := out.rec.Result
	r.emit(Event{Kind: EventSteady, Result: &res, Message: res.Message})
	return out
}

// probe sends the n-th probe of tenant t, with env.Probe or else env.Send.
func (r *runner) probe(ctx context.Context, t SteadyTenant, n int) (e ledger.Entry) {
	defer func() {
		if p := recover(); p != nil {
			at := r.clock.Now()
			e = ledger.Entry{Tenant: t.Tenant, Class: t.Class, Start: at, End: at, Indeterminate: true}
		}
	}()
	if r.env.Probe != nil {
		e = r.env.Probe(ctx, t.Tenant, t.Class)
	} else {
		e = r.env.Send(ctx, Request{Tenant: t.Tenant, Class: t.Class, Phase: "steady", Scheduled: r.clock.Now(),
			Rand: seeded(r.plan.Seed, probeStream|uint64(n))})
	}
	e.Tenant, e.Class = t.Tenant, t.Class
	return e
}

// outcomesText renders outcome counts as "completed/: 3, failed/x: 1" in a stable order.
func outcomesText(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
