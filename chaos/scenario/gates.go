package scenario

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
)

// The validity gates of a fault run, as pure functions over its recorded ledger: the Resilience
// specs call them on what a run recorded, and their tests call them on hand-built ledgers. A gate
// that fails says the run cannot be judged (INVALID), not that the runtime failed.

// SteadyBefore is the gate on the stretch before a fault: at least minBefore requests ended before
// faultStart (one in flight at the cut is the fault's to judge), and at least share of them were
// served.
func SteadyBefore(entries []ledger.Entry, faultStart time.Time, minBefore int, share float64) Result {
	before := ledger.Where(entries, func(e ledger.Entry) bool { return e.End.Before(faultStart) })
	served := len(ledger.Where(before, ledger.Entry.Served))
	if len(before) < minBefore || float64(served) < share*float64(len(before)) {
		return Result{Verdict: Invalid, Message: fmt.Sprintf("no steady state before the fault: %d requests, %d served (need %d, %.0f%% served): %s",
			len(before), served, minBefore, 100*share, CountsText(before))}
	}
	return Result{Verdict: Pass, Message: fmt.Sprintf("steady state before the fault: %d requests, %d served", len(before), served)}
}

// SettledPerTenant is the gate on the fault window once the runtime's declared detection time has
// passed: each of tenants must have at least min requests that started in it, or the fault is
// not shown to hit them.
func SettledPerTenant(entries []ledger.Entry, window ledger.Window, detection time.Duration, tenants []string, minN int) Result {
	settled := ledger.Started(entries, ledger.Window{Start: window.Start.Add(detection), End: window.End})
	for _, t := range tenants {
		if n := len(ledger.Where(settled, func(e ledger.Entry) bool { return e.Tenant == t })); n < minN {
			return Result{Verdict: Invalid, Message: fmt.Sprintf("only %d requests of %s after detection in the fault window (need %d)", n, t, minN)}
		}
	}
	return Result{Verdict: Pass, Message: fmt.Sprintf("every judged tenant has at least %d requests after detection in the fault window", minN)}
}

// CountsText renders entries' outcome counts for a message: "completed/ 12, indeterminate 1".
func CountsText(entries []ledger.Entry) string {
	c := ledger.Counts(entries)
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
