package page

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/gameday/journal"
)

func TestAggregatePerSecond(t *testing.T) {
	dir := t.TempDir()
	w, err := journal.CreateLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	add := func(tenant string, s float64, class outcome.Class, lat time.Duration, indeterminate bool) {
		e := ledger.Entry{Tenant: tenant, Start: at0(s), End: at0(s).Add(lat), Outcome: class, Indeterminate: indeterminate}
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	add("a", 0.1, outcome.Completed, 10*time.Millisecond, false)
	add("a", 0.5, outcome.Completed, 30*time.Millisecond, false)
	add("a", 0.9, outcome.Rerouted, 20*time.Millisecond, false)
	add("a", 0.99, outcome.Failed, time.Second, false)
	add("a", 2.0, "", 5*time.Second, true)
	add("b", -0.5, outcome.Shed, time.Millisecond, false)
	add("b", 0, "bogus", time.Millisecond, false)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Aggregate(t0, time.Time{}, filepath.Join(dir, journal.LedgerFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Entries != 7 || len(s.Tenants) != 2 || s.Tenants[0].Tenant != "a" || s.Tenants[1].Tenant != "b" {
		t.Fatalf("Aggregate = %d entries, tenants %+v", s.Entries, s.Tenants)
	}
	a, b := s.Tenants[0], s.Tenants[1]
	if a.From != 0 || len(a.Seconds) != 3 || b.From != -1 || len(b.Seconds) != 2 {
		t.Fatalf("a spans %d+%d s, b %d+%d s; want 0+3 and -1+2", a.From, len(a.Seconds), b.From, len(b.Seconds))
	}
	count := func(sec Second, class string) int { return sec.Counts[slices.Index(Classes[:], class)] }
	if sec := a.Seconds[0]; sec.N != 4 || count(sec, "completed") != 2 || count(sec, "rerouted") != 1 || count(sec, "failed") != 1 {
		t.Errorf("a's second 0 = %+v", sec)
	}
	if sec := a.Seconds[0]; !near(sec.P50, 20*time.Millisecond) || !near(sec.P99, time.Second) {
		t.Errorf("a's second 0: p50 %s p99 %s, want about 20ms and 1s", sec.P50, sec.P99)
	}
	if sec := a.Seconds[1]; sec.N != 0 || sec.P50 != 0 {
		t.Errorf("a's empty second 1 = %+v", sec)
	}
	if sec := a.Seconds[2]; count(sec, "indeterminate") != 1 || !near(sec.P99, 5*time.Second) {
		t.Errorf("a's second 2 = %+v", sec)
	}
	if count(b.Seconds[0], "shed") != 1 || count(b.Seconds[1], "other") != 1 {
		t.Errorf("b = %+v", b.Seconds)
	}
}

// near is within the histogram's half-bucket error (0.5%).
func near(got, want time.Duration) bool {
	return math.Abs(float64(got-want)) <= 0.005*float64(want)
}

func TestLogHistQuantilesWithinHalfAPercent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := logHist{}
	var all []time.Duration
	for range 20000 {
		d := time.Duration(rng.ExpFloat64() * float64(80*time.Millisecond))
		all = append(all, d)
		h.record(d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99} {
		exact := all[int(math.Ceil(q*float64(len(all))))-1]
		if got := h.quantile(q, len(all)); !near(got, exact) {
			t.Errorf("p%g = %s, exact %s", q*100, got, exact)
		}
	}
	if len(h) > 2000 {
		t.Errorf("the histogram holds %d buckets for %d latencies; it should be bounded by the range", len(h), len(all))
	}
	if got := (logHist{}).quantile(0.5, 0); got != 0 {
		t.Errorf("an empty histogram's p50 = %s", got)
	}
}

func TestAggregateReportsABadLedger(t *testing.T) {
	if _, err := Aggregate(t0, time.Time{}, filepath.Join(t.TempDir(), "none.jsonl")); err == nil {
		t.Error("aggregating a missing ledger succeeded")
	}
}

// BenchmarkAggregate reads the ledger of a ten-minute day at 200 req/s over four tenants
// (120,000 entries) and reports the heap the series hold once built: it grows with seconds ×
// tenants, not with requests.
func BenchmarkAggregate(b *testing.B) {
	dir := b.TempDir()
	w, err := journal.CreateLedger(dir)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 120000 {
		start := at0(float64(i) / 200)
		e := ledger.Entry{Seq: i + 1, Tenant: []string{"a", "b", "c", "d"}[i%4], Start: start,
			End: start.Add(time.Duration(rng.ExpFloat64() * float64(50*time.Millisecond))), Outcome: outcome.Completed}
		if err := w.Write(e); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, journal.LedgerFile)
	b.ReportAllocs()
	var s Series
	for b.Loop() {
		if s, err = Aggregate(t0, time.Time{}, path); err != nil {
			b.Fatal(err)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err = Aggregate(t0, time.Time{}, path)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if err != nil || s.Entries != 120000 {
		b.Fatalf("aggregated %d entries: %v", s.Entries, err)
	}
	b.ReportMetric(float64(after.HeapAlloc)-float64(before.HeapAlloc), "retained-B")
	runtime.KeepAlive(s)
}

func TestAggregateLeavesOutEntriesFarOutsideTheRun(t *testing.T) {
	dir := t.TempDir()
	w, err := journal.CreateLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	// One request in the run, one two days later and one a day before: a clock that jumped. (Years
	// apart, a dense series would take the machine's memory; days make the point without.)
	for i, off := range []time.Duration{time.Second, 48 * time.Hour, -24 * time.Hour} {
		e := ledger.Entry{Seq: i + 1, Tenant: "a", Start: t0.Add(off), End: t0.Add(off + time.Millisecond), Outcome: outcome.Completed}
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, journal.LedgerFile)
	s, err := Aggregate(t0, t0.Add(time.Minute), path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Entries != 1 || s.Dropped != 2 || len(s.Tenants) != 1 || len(s.Tenants[0].Seconds) != 1 {
		t.Fatalf("entries %d, dropped %d, tenants %+v", s.Entries, s.Dropped, len(s.Tenants))
	}
	// Without a known end, no series is longer than a day and its slack.
	s, err = Aggregate(t0, time.Time{}, path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dropped != 2 || len(s.Tenants[0].Seconds) > maxSeriesSeconds {
		t.Fatalf("no end: dropped %d, %d seconds", s.Dropped, len(s.Tenants[0].Seconds))
	}
}
