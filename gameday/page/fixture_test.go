package page

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/gameday/journal"
)

var t0 = time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)

func at0(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// The synthetic day: steady state 0–5 s, baseline 5–25 s, brownout 25–60 s cut short by an
// abort at 48 s, rollback at 48.2 s, steady state again 49–57 s. Two tenants (acme at 40 req/s,
// beta at 20), two faults: eu-latency 18–35 s and cache-down 30 s until the rollback.
const (
	fixtureFaults  = 2
	fixtureTenants = 2
	fixtureAbortAt = 48.0
)

// writeFixture writes a seeded synthetic ledger into dir and returns the journal of its day.
func writeFixture(t testing.TB, dir string) journal.Journal {
	t.Helper()
	w, err := journal.CreateLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2026, 12))
	tally := scenario.NewTally(time.Second)
	seq := 0
	for _, tenant := range []struct {
		name string
		rate float64
	}{{"acme", 40}, {"beta", 20}} {
		for s := 5.0; s < fixtureAbortAt; s += rng.ExpFloat64() / tenant.rate {
			seq++
			e := synthetic(rng, tenant.name, seq, s)
			tally.Add(e)
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var totals []scenario.GroupCounts
	for _, k := range tally.Keys() {
		totals = append(totals, scenario.GroupCounts{Key: k, Counts: tally.Of(k.Tenant, k.Class)})
	}
	pass := func(msg string) scenario.Result { return scenario.Result{Verdict: scenario.Pass, Message: msg} }
	o := scenario.Outcome{
		Plan: "hosted-provider-brownout", Seed: 2026, Status: scenario.StatusAborted, Start: t0, End: at0(60),
		SteadyBefore: scenario.SteadyRecord{Start: at0(0), End: at0(5), Result: pass("acme 5/5, beta 5/5 probes served")},
		Phases:       []scenario.PhaseRecord{{Name: "baseline", Start: at0(5), End: at0(25)}, {Name: "brownout", Start: at0(25), End: at0(fixtureAbortAt)}},
		Faults: []scenario.FaultRecord{
			{Name: "eu-latency", Kind: "latency", Detail: "latency=400ms & jitter=100ms", Role: "provider", Targets: []string{"provider/eu-hosted"}, Start: at0(18), End: at0(35)},
			{Name: "cache-down", Kind: "down", Role: "cache", Targets: []string{"cache/a", "cache/b"}, Start: at0(30), End: at0(48.2)},
		},
		Expectations: []scenario.ExpectRecord{
			{Phase: "baseline", Expectation: scenario.Expectation{Name: "acme served", Tenant: "acme", MinServed: 0.99}, Result: pass("all served"), Samples: 790},
			{Phase: "brownout", Expectation: scenario.Expectation{Name: "acme mostly served", Tenant: "acme", MinServed: 0.9}, Result: scenario.Result{Verdict: scenario.Fail, Message: "71% served, want 90%"}, Samples: 920},
			{Phase: "brownout", Expectation: scenario.Expectation{Name: "beta <never> us", Tenant: "beta", Forbidden: []string{"us"}}, Result: pass("no request served by us"), Samples: 460},
		},
		Abort:          &scenario.AbortRecord{At: at0(fixtureAbortAt), Rule: "error_budget", Reason: "acme unserved 31% > budget 25%"},
		Rollback:       []scenario.RollbackEntry{{What: "heal cache-down", At: at0(48.2)}},
		Residue:        pass("no proxy disabled or toxic"),
		SteadyAfter:    scenario.SteadyRecord{Start: at0(49), End: at0(57), Result: pass("acme 5/5, beta 5/5 probes served")},
		Recovery:       3 * time.Second,
		RecoveryResult: pass("recovered in 3.0 s, declared 10 s"),
		Totals:         totals,
	}
	return journal.New(o, "test", journal.File{Name: "hosted-provider-brownout", SHA256: "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea"},
		journal.File{Name: "embedded"}, 10*time.Second)
}

// synthetic is one request sent at s seconds: served quickly before the faults, slower and
// sometimes rerouted under eu-latency, often refused or failed while the cache is down.
func synthetic(rng *rand.Rand, tenant string, seq int, s float64) ledger.Entry {
	start := at0(s)
	lat := time.Duration((30 + rng.ExpFloat64()*20) * float64(time.Millisecond))
	class, reason := outcome.Completed, outcome.ReasonNone
	switch p := rng.Float64(); {
	case s >= 18 && s < 35 && p < 0.3:
		class, reason, lat = outcome.Rerouted, outcome.ReasonProviderFallback, lat+time.Duration(rng.IntN(300))*time.Millisecond
	case s >= 30 && p < 0.55:
		class, reason = outcome.Shed, outcome.ReasonQueueFull
	case s >= 30 && p < 0.65:
		class, reason, lat = outcome.Failed, outcome.ReasonDependencyUnavailable, lat+400*time.Millisecond
	case s >= 30 && p < 0.68:
		class, reason, lat = outcome.TimedOut, outcome.ReasonDeadline, 2*time.Second
	case p > 0.995:
		class, reason = outcome.Degraded, outcome.ReasonFallbackModel
	}
	e := ledger.Entry{Seq: seq, Tenant: tenant, Class: "interactive", Path: "http", Start: start, End: start.Add(lat), Deadline: 2 * time.Second,
		Outcome: class, Reason: reason, RequestID: "r", ServedBy: outcome.ServedBy{Region: "eu"}}
	if e.Served() {
		e.TTFT = lat / 2
	}
	if s >= 30 && rng.Float64() < 0.01 {
		e.Indeterminate, e.Outcome, e.Reason = true, "", ""
	}
	return e
}
