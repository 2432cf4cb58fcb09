package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aruntime/arcert/chaos/scenario"
)

// watcher turns a game day's events into what the people watching it see: a status line a second
// (redrawn in place on a terminal, one timestamped line each in a log), and a line for every
// phase, fault, abort and rollback as it happens.
type watcher struct {
	w        io.Writer
	tty      bool
	plan     scenario.Plan
	start    time.Time
	metrics  *gamedayMetrics // nil without --metrics-listen
	mu       sync.Mutex
	phase    string
	inForce  map[string]string // fault name → kind, while in force
	last     scenario.Counts   // totals at the previous tick, for per-second rates
	lastTick time.Time
	drawn    bool // a status line is on the terminal and must be cleared before a plain line
}

func newWatcher(w io.Writer, tty bool, plan scenario.Plan, metrics *gamedayMetrics) *watcher {
	return &watcher{w: w, tty: tty, plan: plan, metrics: metrics, inForce: map[string]string{}}
}

// observe is the engine's Env.Observe.
func (wt *watcher) observe(ev scenario.Event) {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if wt.start.IsZero() {
		wt.start = ev.At
	}
	if wt.metrics != nil {
		wt.metrics.observe(ev)
	}
	switch ev.Kind {
	case scenario.EventSteady:
		if ev.Result != nil {
			wt.line(ev.At, "steady state: %s: %s", ev.Result.Verdict, ev.Result.Message)
		}
	case scenario.EventPhase:
		wt.phase = ev.Phase
		wt.line(ev.At, "phase %s", ev.Phase)
	case scenario.EventInjected:
		if f := ev.Fault; f != nil {
			if ev.Result != nil && !ev.Result.OK() {
				wt.line(ev.At, "fault %s could not be injected: %s", f.Name, ev.Result.Message)
				break
			}
			wt.inForce[f.Name] = f.Kind
			wt.line(ev.At, "fault %s in force: %s on %s", f.Name, faultText(*f), strings.Join(f.Targets, ", "))
		}
	case scenario.EventHealed:
		if f := ev.Fault; f != nil {
			delete(wt.inForce, f.Name)
			msg := "healed"
			if ev.Result != nil && !ev.Result.OK() {
				msg = "heal failed: " + ev.Result.Message
			}
			wt.line(ev.At, "fault %s %s", f.Name, msg)
		}
	case scenario.EventAbort:
		wt.line(ev.At, "ABORT: %s", ev.Message)
	case scenario.EventRolledBack:
		if ev.Result != nil {
			wt.line(ev.At, "rollback done; residue check: %s %s", ev.Result.Verdict, ev.Result.Message)
		}
	case scenario.EventTick:
		if ev.Tally != nil {
			wt.tick(ev.At, ev.Tally)
		}
	}
}

// faultText names a fault record's kind and parameters.
func faultText(f scenario.FaultRecord) string {
	if f.Detail != "" {
		return f.Kind + " (" + f.Detail + ")"
	}
	return f.Kind
}

// line prints one event line, clearing a status line first on a terminal.
func (wt *watcher) line(at time.Time, format string, args ...any) {
	if wt.tty && wt.drawn {
		fmt.Fprint(wt.w, "\r\033[K")
		wt.drawn = false
	}
	fmt.Fprintf(wt.w, "%s +%5.1fs  %s\n", at.Format("15:04:05"), at.Sub(wt.start).Seconds(), fmt.Sprintf(format, args...))
}

// tick prints the status line: phase, elapsed/total, offered and served req/s over the last
// second, outcomes per class so far, faults in force, and the error budget left per tenant.
func (wt *watcher) tick(at time.Time, tally *scenario.Tally) {
	total := tally.Of("", "")
	dt := at.Sub(wt.lastTick).Seconds()
	if wt.lastTick.IsZero() || dt <= 0 {
		dt = 1
	}
	offered := float64(total.Requests-wt.last.Requests) / dt
	served := float64(total.Served-wt.last.Served) / dt
	wt.last, wt.lastTick = total, at

	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s/%s  offered %.0f/s served %.0f/s", orNone(wt.phase), at.Sub(wt.start).Round(time.Second), wt.plan.Duration(), offered, served)
	fmt.Fprintf(&b, "  %s", outcomeText(total.Outcomes))
	if len(wt.inForce) > 0 {
		fmt.Fprintf(&b, "  faults: %s", strings.Join(slices.Sorted(maps.Keys(wt.inForce)), ","))
	}
	for _, tenant := range slices.Sorted(maps.Keys(wt.plan.Abort.ErrorBudget)) {
		budget := wt.plan.Abort.ErrorBudget[tenant]
		c := tally.Of(tenant, "")
		fmt.Fprintf(&b, "  budget %s %.0f%%", tenant, 100*budgetLeft(budget, c))
		if wt.metrics != nil {
			wt.metrics.budget.WithLabelValues(tenant).Set(budgetLeft(budget, c))
		}
	}
	if wt.tty {
		fmt.Fprintf(wt.w, "\r\033[K%s", b.String())
		wt.drawn = true
		return
	}
	fmt.Fprintf(wt.w, "%s %s\n", at.Format("15:04:05"), b.String())
}

// budgetLeft is the share of a tenant's error budget not yet spent (0..1).
func budgetLeft(budget float64, c scenario.Counts) float64 {
	if budget <= 0 || c.Requests == 0 {
		return 1
	}
	spent := (1 - c.ServedShare()) / budget
	return max(0, 1-spent)
}

// outcomeText renders outcome counts grouped by class: "completed 120 refused 8".
func outcomeText(outcomes map[string]int) string {
	byClass := map[string]int{}
	for k, n := range outcomes {
		class, _, _ := strings.Cut(k, "/")
		byClass[class] += n
	}
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(byClass)) {
		parts = append(parts, fmt.Sprintf("%s %d", c, byClass[c]))
	}
	if len(parts) == 0 {
		return "no requests yet"
	}
	return strings.Join(parts, " ")
}

func orNone(s string) string {
	if s == "" {
		return "steady-state check"
	}
	return s
}

// finish ends a status line left on the terminal.
func (wt *watcher) finish() {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if wt.tty && wt.drawn {
		fmt.Fprintln(wt.w)
		wt.drawn = false
	}
}
