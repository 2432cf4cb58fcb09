package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/gameday/journal"
	"github.com/aruntime/arcert/gameday/page"
	"github.com/aruntime/arcert/internal/harnessgc"
)

// BenchmarkGamedayMemory plays a ten-minute game day at 200 req/s through everything the harness
// runs during a day except the network: the engine on a virtual clock, the status lines, the
// Prometheus metrics, the ledger streamed to disk, then the journal, summary, JUnit and page. Send
// is a stand-in that answers at once (a region "down" while a fault holds), so the figure is the
// harness's own memory: peak RSS (VmHWM, the whole test binary) and the heap after the day, with
// the collector set as arcert sets it (internal/harnessgc).
//
//	go test -run '^$' -bench GamedayMemory -benchtime 1x ./cmd/arcert
func BenchmarkGamedayMemory(b *testing.B) {
	defer harnessgc.Apply()()
	for b.Loop() {
		dir := b.TempDir()
		clock := scenario.NewVirtualClock(time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC))
		var down atomic.Bool
		send := func(_ context.Context, req scenario.Request) ledger.Entry {
			e := ledger.Entry{Tenant: req.Tenant, Class: req.Class, Start: req.Scheduled, End: req.Scheduled.Add(40 * time.Millisecond),
				TTFT: 12 * time.Millisecond, Deadline: 10 * time.Second, RequestID: "req-" + strconv.Itoa(req.Seq),
				Outcome: outcome.Completed, ServedBy: outcome.ServedBy{Region: "eu-west", Worker: "worker-a"}, Tokens: 8, Path: "http-stream"}
			if down.Load() {
				e.Outcome, e.Reason, e.ServedBy = outcome.Rejected, outcome.ReasonPolicyForbidsFallback, outcome.ServedBy{}
			}
			return e
		}
		load := []scenario.Load{{Tenant: "acme", Class: "interactive", Rate: 120}, {Tenant: "globex", Class: "interactive", Rate: 60}, {Tenant: "initech", Class: "batch", Rate: 20}}
		plan := scenario.Plan{Name: "ten minutes", Seed: 1, Recovery: 15 * time.Second,
			Steady: scenario.Steady{Probes: 3, Within: 10 * time.Second, Tenants: []scenario.SteadyTenant{{Tenant: "acme"}, {Tenant: "globex"}}},
			Phases: []scenario.Phase{
				{Name: "steady", Duration: 2 * time.Minute, Load: load, Expect: []scenario.Expectation{{Tenant: "acme", MinServed: 0.95}}},
				{Name: "outage", Duration: 6 * time.Minute, Load: load, Expect: []scenario.Expectation{{Tenant: "acme", Allowed: []string{"rejected/policy_forbids_fallback", "completed"}}}},
				{Name: "recovery", Duration: 2 * time.Minute, Load: load}},
			Faults: []scenario.Fault{{Name: "region down", At: 3 * time.Minute, For: 4 * time.Minute, Custom: func(context.Context) (func() error, error) {
				down.Store(true)
				return func() error { down.Store(false); return nil }, nil
			}}}}
		lw, err := journal.CreateLedger(dir)
		if err != nil {
			b.Fatal(err)
		}
		w := newWatcher(io.Discard, false, plan, newGamedayMetrics())
		env := scenario.Env{Send: send, Sink: lw.Write, Observe: w.observe, Clock: clock}
		o := scenario.Run(context.Background(), plan, env)
		if err := lw.Close(); err != nil {
			b.Fatal(err)
		}
		if o.Status != scenario.StatusCompleted {
			b.Fatalf("status %s: %s", o.Status, o.Error)
		}
		j := journal.New(o, version, journal.File{Name: plan.Name}, journal.File{Name: "stand-in"}, plan.Recovery)
		if err := journal.WriteAll(dir, j); err != nil {
			b.Fatal(err)
		}
		if err := page.Write(dir, j, filepath.Join(dir, journal.LedgerFile)); err != nil {
			b.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(dir, journal.LedgerFile))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(lw.Count()), "requests")
		b.ReportMetric(float64(st.Size())/(1<<20), "ledger-MB")
		b.ReportMetric(peakRSSMB(b), "peak-RSS-MB")
	}
}

// peakRSSMB reads the process's peak resident set (VmHWM) from /proc/self/status.
func peakRSSMB(b *testing.B) float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
