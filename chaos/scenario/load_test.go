package scenario

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
)

// drawn records, per Seq, the tenant and the first draw of the request's Rand.
type drawn struct {
	mu  sync.Mutex
	got map[int][2]any
}

func (d *drawn) send(f *fakeRuntime) func(context.Context, Request) ledger.Entry {
	return func(ctx context.Context, req Request) ledger.Entry {
		d.mu.Lock()
		d.got[req.Seq] = [2]any{req.Tenant, req.Rand.Uint64()}
		d.mu.Unlock()
		return f.send(ctx, req)
	}
}

func TestScheduleAndPromptsAreSeeded(t *testing.T) {
	run := func(seed int64) map[int][2]any {
		d := &drawn{got: map[int][2]any{}}
		f := newFake(NewVirtualClock(t0))
		env := f.env()
		env.Send = d.send(f)
		p := Plan{Name: "seeded", Seed: seed, Phases: []Phase{{Name: "all", Duration: 20 * time.Second,
			Load: []Load{{Tenant: "a", Rate: 5}, {Tenant: "b", Rate: 5}}}}}
		if out := Run(context.Background(), p, env); out.Status != StatusCompleted {
			t.Fatalf("status %s (%s)", out.Status, out.Error)
		}
		return d.got
	}
	a, b, c := run(1), run(1), run(2)
	if len(a) < 150 || len(a) != len(b) {
		t.Fatalf("%d then %d requests for one seed (want about 200, the same)", len(a), len(b))
	}
	for seq, v := range a {
		if b[seq] != v {
			t.Fatalf("request #%d: %v then %v", seq, v, b[seq])
		}
	}
	same := 0
	for seq, v := range a {
		if c[seq] == v {
			same++
		}
	}
	if len(c) == len(a) && same == len(a) {
		t.Fatal("seeds 1 and 2 gave the same schedule")
	}
}

func TestRampRaisesTheRateLinearly(t *testing.T) {
	f := newFake(NewVirtualClock(t0))
	p := Plan{Name: "ramp", Seed: 3, Phases: []Phase{
		{Name: "ramp", Duration: 100 * time.Second, Load: []Load{{Tenant: "a", Rate: 20, Ramp: 100 * time.Second}}},
		{Name: "flat", Duration: 100 * time.Second, Load: []Load{{Tenant: "a", Rate: 20}}}}}
	out := Run(context.Background(), p, f.env())
	ramp, flat := out.Phases[0].Counts[0].Requests, out.Phases[1].Counts[0].Requests
	// A linear ramp to the rate sends half of what the flat phase sends: 1000 against 2000.
	if flat < 1800 || flat > 2200 || ramp < 850 || ramp > 1150 {
		t.Fatalf("ramp %d, flat %d requests; want about 1000 and 2000", ramp, flat)
	}
}

func TestKeepEntriesFalseKeepsNone(t *testing.T) {
	f := newFake(NewVirtualClock(t0))
	var sunk int
	env := f.env()
	env.Sink = func(ledger.Entry) error { sunk++; return nil }
	p := Plan{Name: "stream", Seed: 1, Phases: []Phase{{Name: "all", Duration: 10 * time.Second, Load: []Load{{Tenant: "a", Rate: 50}},
		Expect: []Expectation{{Name: "served", MinServed: 1}}}}}
	out := Run(context.Background(), p, env)
	if out.Status != StatusCompleted || out.Entries != nil || sunk < 400 || out.Totals[0].Requests != sunk {
		t.Fatalf("status %s, %d entries kept, %d sunk, totals %+v", out.Status, len(out.Entries), sunk, out.Totals)
	}
}

func TestAHealThatFailsIsRetriedInRollback(t *testing.T) {
	f := newFake(NewVirtualClock(t0))
	tries := 0
	flaky := Fault{Name: "flaky", At: time.Second, For: time.Second, Custom: func(context.Context) (func() error, error) {
		return func() error {
			if tries++; tries == 1 {
				return context.DeadlineExceeded
			}
			return nil
		}, nil
	}}
	p := Plan{Name: "retry", Phases: []Phase{{Name: "all", Duration: 3 * time.Second}}, Faults: []Fault{flaky}}
	out := Run(context.Background(), p, f.env())
	if tries != 2 || len(out.Rollback) != 1 || out.Rollback[0].Error != "" || !out.Residue.OK() || out.Faults[0].Error == "" {
		t.Fatalf("tries %d, rollback %+v, residue %+v, fault %+v", tries, out.Rollback, out.Residue, out.Faults[0])
	}
}

// BenchmarkRunMemory plays a ten-minute game day at 200 requests a second (120 000 requests) on a
// virtual clock, entries streamed to a sink and not kept, and reports the heap in use at its
// peak (sampled every tick) and after the run: both must stay flat, whatever the run's length.
func BenchmarkRunMemory(b *testing.B) {
	for b.Loop() {
		f := newFake(NewVirtualClock(t0))
		env := f.env()
		env.Sink = func(ledger.Entry) error { return nil }
		var peak uint64
		var ms runtime.MemStats
		env.Observe = func(e Event) {
			if e.Kind == EventTick && e.At.Second() == 0 { // once a virtual minute
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
		load := []Load{{Tenant: "a", Class: "interactive", Rate: 150}, {Tenant: "b", Class: "batch", Rate: 50}}
		p := Plan{Name: "ten minutes", Seed: 1, Phases: []Phase{
			{Name: "before", Duration: 2 * time.Minute, Load: load},
			{Name: "fault", Duration: 6 * time.Minute, Load: load, Expect: []Expectation{{Name: "served", MinServed: 0.1, NothingLost: true}}},
			{Name: "after", Duration: 2 * time.Minute, Load: load}},
			Faults: []Fault{f.downFault("cut", 3*time.Minute, 2*time.Minute)}}
		out := Run(context.Background(), p, env)
		if out.Status == StatusErrored {
			b.Fatalf("status %s: %s", out.Status, out.Error)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "end-heap-MB")
		b.ReportMetric(float64(f.sent.Load()), "requests")
	}
}
