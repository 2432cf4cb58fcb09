package journal

import (
	"time"

	"github.com/aruntime/arcert/chaos/scenario"
)

var t0 = time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)

func at0(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// sampleJournal is an aborted day: a passed, a failed, an invalid and an unreached expectation,
// a fault that ran and one that failed to heal, a rollback and a clean residue.
func sampleJournal() Journal {
	counts := func(req, served int) scenario.Counts {
		return scenario.Counts{Requests: req, Served: served, Outcomes: map[string]int{"completed/ok": served, "refused/dependency_unavailable": req - served},
			ServedBy: map[string]int{"region=eu": served}, P50TTFT: 40 * time.Millisecond, P90TTFT: 90 * time.Millisecond, P99TTFT: 210 * time.Millisecond}
	}
	o := scenario.Outcome{
		Plan: "region-evacuation", Seed: 42, Status: scenario.StatusAborted, Start: t0, End: at0(75),
		SteadyBefore: scenario.SteadyRecord{Start: at0(0), End: at0(5), Result: scenario.Result{Verdict: scenario.Pass, Message: "every probe served"}},
		Phases: []scenario.PhaseRecord{
			{Name: "baseline", Start: at0(5), End: at0(25), Counts: []scenario.GroupCounts{{Key: scenario.Key{Tenant: "acme"}, Counts: counts(200, 200)}}},
			{Name: "evacuate", Start: at0(25), End: at0(50), Counts: []scenario.GroupCounts{{Key: scenario.Key{Tenant: "acme"}, Counts: counts(250, 180)}}},
		},
		Faults: []scenario.FaultRecord{
			{Name: "eu-down", Kind: "down", Role: "region", Targets: []string{"region/eu/gateway", "region/eu/worker"}, Start: at0(25), End: at0(45)},
			{Name: "cache | slow", Kind: "latency", Detail: "latency=300ms", Role: "cache", Start: at0(30), End: at0(50), Error: "heal: proxy cache still toxic"},
		},
		Expectations: []scenario.ExpectRecord{
			{Phase: "baseline", Expectation: scenario.Expectation{Name: "acme served", Tenant: "acme", MinServed: 0.99}, Result: scenario.Result{Verdict: scenario.Pass, Message: "200 of 200 served"}, Samples: 200},
			{Phase: "evacuate", Expectation: scenario.Expectation{Tenant: "acme", Class: "interactive", MinServed: 0.9}, Result: scenario.Result{Verdict: scenario.Fail, Message: "180 of 250 served (72%), want 90%\nsecond line"}, Samples: 250},
			{Phase: "evacuate", Expectation: scenario.Expectation{Name: "beta policy", Tenant: "beta", Forbidden: []string{"us"}}, Result: scenario.Result{Verdict: scenario.Invalid, Message: "3 requests are too few, want 10"}, Samples: 3},
			{Phase: "recover", Expectation: scenario.Expectation{Name: "acme back"}},
		},
		Abort:          &scenario.AbortRecord{At: at0(50), Rule: "error_budget", Reason: "acme unserved 28% > budget 20%"},
		Rollback:       []scenario.RollbackEntry{{What: "heal eu-down", At: at0(50.5)}, {What: "heal cache | slow", At: at0(50.6), Error: "proxy cache: 503"}},
		Residue:        scenario.Result{Verdict: scenario.Pass, Message: "no proxy disabled or toxic, no part down"},
		SteadyAfter:    scenario.SteadyRecord{Start: at0(51), End: at0(60), Result: scenario.Result{Verdict: scenario.Pass, Message: "every probe served"}},
		Recovery:       4 * time.Second,
		RecoveryResult: scenario.Result{Verdict: scenario.Pass},
		Totals:         []scenario.GroupCounts{{Key: scenario.Key{Tenant: "acme", Class: "interactive"}, Counts: counts(450, 380)}},
	}
	sum := "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea"
	return New(o, "v0.9.0-test", File{Name: "region-evacuation", Path: "fixtures/gamedays/region-evacuation.yaml", SHA256: sum},
		File{Name: "embedded"}, 10*time.Second)
}
