package suites

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/checks"
	"github.com/aruntime/arcert/conformance/target"
)

// TestASlowClientPathIsNotAnExcess: ten requests the runtime handled one after another, each
// sent late by the client (waiting for a connection) and read late (a busy client), overlap from
// send to last byte read, but not from last byte written to the answer's first byte: ADM-1 counts
// one in flight, as the runtime held.
func TestASlowClientPathIsNotAnExcess(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var entries []chaosledger.Entry
	wire := map[int]wireTimes{}
	for i := range 10 {
		wrote := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		e := chaosledger.Entry{Seq: i + 1, Path: viaHTTP, Start: t0, End: wrote.Add(9*time.Millisecond + 15*time.Millisecond)}
		entries = append(entries, e)
		wire[e.Seq] = wireTimes{wrote: wrote, firstByte: wrote.Add(9 * time.Millisecond)}
	}
	if got := sendWindowPeak(entries); got != 10 {
		t.Fatalf("from send to last byte read, %d overlap; the fixture means 10", got)
	}
	ivs, untimed := admittedWindows(entries, wire)
	if got := checks.MaxOverlap(ivs); got != 1 || untimed != 0 {
		t.Errorf("from last byte written to first byte back, %d overlap (%d untimed), want 1", got, untimed)
	}
}

// TestAdmittedWindow: a stream counts to its last byte, a plain answer whose body came late (the
// runtime sent its headers first) too, and an entry that cannot be placed in time does not count.
func TestAdmittedWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	w := wireTimes{wrote: at(5), firstByte: at(20)}
	for _, c := range []struct {
		name       string
		e          chaosledger.Entry
		start, end time.Time
		ok         bool
	}{
		{"plain, whole", chaosledger.Entry{Path: viaHTTP, Start: at(0), End: at(21)}, at(5), at(20), true},
		{"plain, body late", chaosledger.Entry{Path: viaHTTP, Start: at(0), End: at(500)}, at(5), at(500), true},
		{"stream", chaosledger.Entry{Path: viaHTTPStream, Start: at(0), End: at(300)}, at(5), at(300), true},
		{"never sent", chaosledger.Entry{Path: viaHTTP, End: at(3)}, time.Time{}, time.Time{}, false},
		{"ends before it starts", chaosledger.Entry{Path: viaHTTP, Start: at(10), End: at(3)}, time.Time{}, time.Time{}, false},
	} {
		iv, ok := admittedWindow(c.e, w)
		if ok != c.ok || (ok && (!iv.Start.Equal(c.start) || !iv.End.Equal(c.end))) {
			t.Errorf("%s: [%v, %v] %v, want [%v, %v] %v", c.name, iv.Start.Sub(t0), iv.End.Sub(t0), ok, c.start.Sub(t0), c.end.Sub(t0), c.ok)
		}
	}
}

// TestGaugesAreReadAndSummed: a runtime publishing vLLM's gauges is read as running plus waiting;
// one publishing none is said to, so the evidence names the client's count as the only one.
func TestGaugesAreReadAndSummed(t *testing.T) {
	// A scrape cancelled when its run ends may still be in the handler: the body is read atomically.
	var body atomic.Value
	body.Store("# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"m\"} 8\n# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name=\"m\"} 16\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		_, _ = fmt.Fprint(w, body.Load())
	}))
	defer srv.Close()
	defer func(old *Env) { env = old }(env)
	env = &Env{Target: &target.Target{Endpoints: target.Endpoints{HTTP: srv.URL}}}
	set, sum, why := scrapeGauges(context.Background())
	if why != "" || set.runtime != "vLLM" || sum.sum != 24 || sum.byClass != nil {
		t.Fatalf("read %q %+v (%s), want vLLM 24 and no class", set.runtime, sum, why)
	}
	g := gaugesRun(context.Background(), func() { time.Sleep(3 * gaugeEvery) })
	if !g.read() || g.peak != 24 {
		t.Errorf("sampled %+v, want a peak of 24", g)
	}
	// The same router listed twice is two routers' worth of admitted work; a dead one is no reading.
	env.Target.Endpoints.More = []target.Router{{HTTP: srv.URL}}
	if _, sum, why := scrapeGauges(context.Background()); why != "" || sum.sum != 48 {
		t.Errorf("two routers read %+v (%s), want 48, their sum", sum, why)
	}
	env.Target.Endpoints.More = []target.Router{{HTTP: "http://127.0.0.1:1"}}
	if _, _, why := scrapeGauges(context.Background()); !strings.Contains(why, "at http://127.0.0.1:1") {
		t.Errorf("a dead second router: %q, want it named", why)
	}
	// ARuntime's gauges: running over every class, each class's queue labelled. A class's bound is
	// the running count plus its own queue, over both routers; the sum is everything.
	body.Store("# TYPE aruntime_in_flight gauge\naruntime_in_flight 16\n# TYPE aruntime_queue_depth gauge\n" +
		"aruntime_queue_depth{traffic_class=\"interactive\"} 30\naruntime_queue_depth{traffic_class=\"batch\"} 100\n")
	env.Target.Endpoints.More = []target.Router{{HTTP: srv.URL}}
	if _, s, why := scrapeGauges(context.Background()); why != "" || s.sum != 292 || s.byClass["interactive"] != 92 || s.byClass["batch"] != 232 {
		t.Errorf("classed gauges over two routers read %+v (%s), want sum 292, interactive 92, batch 232", s, why)
	}
	g = gaugesRun(context.Background(), func() { time.Sleep(3 * gaugeEvery) })
	if g.peakFor("interactive") != 92 || g.peakFor("batch") != 232 || g.peakFor("unlabelled-class") != 292 {
		t.Errorf("sampled %+v: want interactive 92, batch 232, a class no series names the whole 292", g)
	}
	env.Target.Endpoints.More = nil
	body.Store("# TYPE other gauge\nother 3\n")
	if g := gaugesRun(context.Background(), func() {}); g.read() || g.String() == "" {
		t.Errorf("a runtime without known gauges was read: %s", g)
	}
}
