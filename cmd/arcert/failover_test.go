package main

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/traffic"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
	"github.com/aruntime/arcert/fixtures/targets"
	"github.com/aruntime/arcert/reference/runtime"
)

// The failover benchmark's schedule: steady load, the primary region's pool cut, healed, and
// load again; and its rate, well inside what the standby region alone can serve.
const (
	failoverLead  = 2 * time.Second
	failoverHold  = 4 * time.Second
	failoverTail  = 3 * time.Second
	failoverRate  = 40.0
	failoverPoll  = 20 * time.Millisecond
	failoverToken = 4
)

// BenchmarkRegionFailover cuts the embedded runtime's primary region (every eu-west worker link
// down) under open-loop load from a tenant allowed to fail over, and reports how fast the router
// noticed (its capacity gauge drops to the standby region's slots), when the first rerouted
// success came, what share of the tenant's requests in the fault window were served, and how
// fast the region served again after healing. Run it with -benchtime 1x (make bench does).
func BenchmarkRegionFailover(b *testing.B) {
	for range b.N {
		m := measureFailover(b)
		b.ReportMetric(float64(m.detection.Milliseconds()), "detect-ms")
		b.ReportMetric(float64(m.firstReroute.Milliseconds()), "first-reroute-ms")
		b.ReportMetric(m.servedPct, "served-%")
		b.ReportMetric(float64(m.recovery.Milliseconds()), "recover-ms")
		b.Logf("\n| detection | first rerouted success | served in the fault window | back in the primary region |\n|---:|---:|---:|---:|\n| %d ms | %d ms | %.2f %% (%d of %d) | %d ms |",
			m.detection.Milliseconds(), m.firstReroute.Milliseconds(), m.servedPct, m.served, m.inWindow, m.recovery.Milliseconds())
	}
}

type failoverFigures struct {
	detection, firstReroute, recovery time.Duration
	served, inWindow                  int
	servedPct                         float64
}

func measureFailover(b *testing.B) failoverFigures {
	b.Helper()
	ctx := context.Background()
	engine, stopFaults, err := startFaultServer()
	if err != nil {
		b.Fatal(err)
	}
	defer stopFaults()
	rt, stop, err := startEmbedded(ctx, "", interposer(engine), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	t, err := target.Parse(targets.ReferenceName, targets.ReferenceYAML)
	if err != nil {
		b.Fatal(err)
	}
	primary, mobile := t.Regions[0], t.Tenants[0]
	for _, tn := range t.Tenants {
		if slices.ContainsFunc(primary.FallbackTo, func(r string) bool { return slices.Contains(tn.DataPolicy.AllowedRegions, r) }) {
			mobile = tn
		}
	}
	client := driver.New("http://" + rt.Topology().HTTP)
	steadySlots := capacitySlots(b, rt)
	mt := int64(failoverToken)
	body := openai.CompletionRequest{Model: t.Models[0].Name, MaxTokens: &mt, Messages: []openai.ChatMessage{{Role: "user", Content: "failover benchmark"}}}

	var (
		mu   sync.Mutex
		rec  ledger.Ledger
		cut  time.Time
		heal time.Time
		down time.Time
	)
	done := make(chan struct{})
	go func() { // the fault's schedule, and the router's view of the region's health
		defer close(done)
		time.Sleep(failoverLead)
		a, err := engine.Inject(link.RoleRegion, primary.Name, fault.Fault{Kind: fault.Down})
		if err != nil {
			b.Error(err)
			return
		}
		mu.Lock()
		cut = time.Now()
		mu.Unlock()
		for deadline := cut.Add(failoverHold); time.Now().Before(deadline); time.Sleep(failoverPoll) {
			if down.IsZero() && capacitySlots(b, rt) != steadySlots {
				down = time.Now()
			}
		}
		if err := a.Heal(); err != nil {
			b.Error(err)
		}
		mu.Lock()
		heal = time.Now()
		mu.Unlock()
	}()
	b.ResetTimer()
	stats := traffic.OpenLoop(ctx, traffic.Profile{Name: "failover", Rate: failoverRate, Duration: failoverLead + failoverHold + failoverTail, Seed: 1},
		func(ctx context.Context, i int, scheduled time.Time) {
			start := time.Now()
			res, err := client.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: mobile.Key, Body: body})
			e := ledger.Entry{Seq: i + 1, Tenant: mobile.Name, Path: "http", Scheduled: scheduled, Start: start, End: time.Now(), TTFT: res.TTFT,
				Status: res.Status, RequestID: res.RequestID, Outcome: res.Outcome, Reason: res.Reason, ServedBy: res.ServedBy,
				Indeterminate: res.Indeterminate || err != nil, Violations: res.ContractViolations, Tokens: res.Tokens}
			if err != nil {
				e.Outcome, e.Error = "", err.Error()
			}
			rec.Record(e)
		})
	<-done
	b.StopTimer()
	if stats.Err != nil {
		b.Fatal(stats.Err)
	}
	if err := engine.Residue(); err != nil {
		b.Fatal(err)
	}
	var f failoverFigures
	if !down.IsZero() {
		f.detection = down.Sub(cut)
	}
	for _, e := range rec.Entries() {
		switch {
		case e.Start.Before(cut) || !e.Start.Before(heal):
		default:
			f.inWindow++
			if e.Outcome == outcome.Completed || e.Outcome == outcome.Rerouted {
				f.served++
			}
		}
		if e.Outcome == outcome.Rerouted && e.End.After(cut) && (f.firstReroute == 0 || e.End.Sub(cut) < f.firstReroute) {
			f.firstReroute = e.End.Sub(cut)
		}
		if !e.Start.Before(heal) && e.Outcome == outcome.Completed && e.ServedBy.Region == primary.Name &&
			(f.recovery == 0 || e.End.Sub(heal) < f.recovery) {
			f.recovery = e.End.Sub(heal)
		}
	}
	if f.inWindow > 0 {
		f.servedPct = 100 * float64(f.served) / float64(f.inWindow)
	}
	return f
}

// capacitySlots reads the router's aruntime_capacity_slots gauge: the slots its healthy workers
// offer. It changes when the router marks the primary region's workers down, which is the
// router's own detection of the fault.
func capacitySlots(b *testing.B, rt *runtime.Runtime) float64 {
	b.Helper()
	families, err := rt.Registry().Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "aruntime_capacity_slots" && len(f.GetMetric()) > 0 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	b.Fatal("the router exports no aruntime_capacity_slots gauge")
	return 0
}
