package scenario

import (
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/ledger"
)

var t0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// entryAt is a request of tenant that started at t0+start and took 10 ms, with class c.
func entryAt(seq int, tenant string, start time.Duration, c outcome.Class) ledger.Entry {
	s := t0.Add(start)
	return ledger.Entry{Seq: seq, Tenant: tenant, Start: s, End: s.Add(10 * time.Millisecond), Outcome: c}
}

// ledgerOf builds n requests of tenant, one every step from start, all with class c.
func ledgerOf(tenant string, n int, start, step time.Duration, c outcome.Class) []ledger.Entry {
	var out []ledger.Entry
	for i := range n {
		out = append(out, entryAt(i+1, tenant, start+time.Duration(i)*step, c))
	}
	return out
}

func TestSteadyBefore(t *testing.T) {
	cut := t0.Add(time.Second)
	good := ledgerOf("a", 20, 0, 40*time.Millisecond, outcome.Completed)
	if r := SteadyBefore(good, cut, 20, 0.95); r.Verdict != Pass {
		t.Fatalf("20 served before the cut: %+v", r)
	}
	// One in flight at the cut (it ends after it) is not counted.
	straddle := append(good[:19:19], entryAt(20, "a", 995*time.Millisecond, outcome.Completed))
	if r := SteadyBefore(straddle, cut, 20, 0.95); r.Verdict != Invalid || !strings.Contains(r.Message, "19 requests, 19 served (need 20, 95% served)") {
		t.Fatalf("a request in flight at the cut counted: %+v", r)
	}
	failing := append(ledgerOf("a", 18, 0, 40*time.Millisecond, outcome.Completed), entryAt(19, "a", 800*time.Millisecond, outcome.Failed), entryAt(20, "a", 850*time.Millisecond, outcome.Failed))
	r := SteadyBefore(failing, cut, 20, 0.95)
	if r.Verdict != Invalid || r.Message != "no steady state before the fault: 20 requests, 18 served (need 20, 95% served): completed/ 18, failed/ 2" {
		t.Fatalf("18 of 20 served: %+v", r)
	}
}

func TestSettledPerTenant(t *testing.T) {
	w := ledger.Window{Start: t0, End: t0.Add(3 * time.Second)}
	entries := append(ledgerOf("a", 30, 0, 100*time.Millisecond, outcome.Failed), ledgerOf("b", 30, 0, 100*time.Millisecond, outcome.Failed)...)
	// After a 2 s detection, 10 of each tenant's requests start in the window.
	if r := SettledPerTenant(entries, w, 2*time.Second, []string{"a", "b"}, 10); r.Verdict != Pass {
		t.Fatalf("10 each after detection: %+v", r)
	}
	r := SettledPerTenant(entries, w, 2500*time.Millisecond, []string{"a", "b"}, 10)
	if r.Verdict != Invalid || r.Message != "only 5 requests of a after detection in the fault window (need 10)" {
		t.Fatalf("5 of a after a 2.5 s detection: %+v", r)
	}
	if r := SettledPerTenant(entries, w, 0, []string{"c"}, 1); r.Verdict != Invalid || !strings.Contains(r.Message, "only 0 requests of c") {
		t.Fatalf("a tenant with no requests: %+v", r)
	}
}
