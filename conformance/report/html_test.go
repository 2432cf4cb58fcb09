package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aruntime/arcert/internal/browsercheck"
)

// sampleReport is a run of core and resilience with every kind of plot and a fault window.
func sampleReport() *Report {
	t0 := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	var rounds [4]PlotSeries
	for i, n := range []string{"A cached", "B on A's prefix", "B base", "B null"} {
		rounds[i].Name = n
	}
	for r := 1; r <= 30; r++ {
		for i := range rounds {
			rounds[i].Points = append(rounds[i].Points, Point{X: float64(r), Y: 40 + float64(i*12+r%7)})
		}
	}
	var spans []Span
	var shed []Point
	for i := range 200 {
		at := t0.Add(time.Duration(i) * 25 * time.Millisecond)
		spans = append(spans, Span{at, at.Add(time.Duration(300+i%5*40) * time.Millisecond)})
		if i%3 == 0 {
			shed = append(shed, Point{X: at.Sub(t0).Seconds(), Y: float64(2 + i%11)})
		}
	}
	ttft := func(base float64) []float64 {
		var out []float64
		for i := range 60 {
			out = append(out, base+float64(i%17)*3)
		}
		return out
	}
	specs := []SpecRecord{
		{Name: "TEN-3 leaks no cached prefix", Requirements: []string{"TEN-3"}, State: SpecPassed, Duration: 7900 * time.Millisecond, Samples: enough("TEN-3"),
			Evidence: []string{"30 rounds (0 unusable): A's cached probe beat the base in 29"},
			Plots:    []Plot{{Kind: Series, Title: "TEN-3: TTFT of each round's probes", X: "round", Y: "TTFT (ms)", Series: rounds[:]}}},
		{Name: "ADM-1 in flight", Requirements: []string{"ADM-1"}, State: SpecPassed, Duration: 2 * time.Second, Samples: enough("ADM-1"),
			Evidence: []string{"offered 600 requests", "standard: peak admitted in flight 14, declared bound 16"},
			Plots:    []Plot{{Kind: Series, Title: "standard: admitted work in flight", X: "s since the overload began", Y: "requests in flight", Series: []PlotSeries{InFlight("in flight", t0, spans)}, Marks: []Mark{{"declared bound", 16}}}}},
		{Name: "ADM-2 sheds fast", Requirements: []string{"ADM-2"}, State: SpecFailed, Message: "excess work waited before it was shed, p99 over 50ms: standard 61ms\nsecond line of the dump",
			Plots: []Plot{{Kind: Series, Title: "standard: time to shed", X: "s since the overload began", Y: "ms", Series: []PlotSeries{{Name: "shed", Points: shed}}, Marks: []Mark{{"p99 bound", 50}}}}},
		{Name: "ADM-4 classes", Requirements: []string{"ADM-4"}, State: SpecPassed, Verdict: Invalid, Message: "12 served probes are too few to bound a p90",
			Plots: []Plot{{Kind: Distribution, Title: "TTFT against the objectives", X: "TTFT (ms)", Series: []PlotSeries{{Name: "interactive", Values: ttft(30)}, {Name: "batch", Values: ttft(90)}}, Marks: []Mark{{"interactive objective", 100}, {"batch objective", 400}}}}},
		{Name: "OUT-7 <stream> & worker", Requirements: []string{"OUT-7"}, State: SpecPassed, Samples: enough("OUT-7"),
			Evidence: []string{"recovered in 1.2s", "a grpc-stream stream lost its worker after 9 tokens and ended with an error: failed/worker_lost"},
			Plots: []Plot{{Kind: Series, Title: "worker-loss: each request by when it was sent and how it ended", X: "s since the run began", Y: "latency (ms)",
				Series: []PlotSeries{{Name: "completed/ok", Points: shed}}, Bands: []Band{{Name: "fault", From: 1, To: 3}}}},
			Faults: []FaultWindow{{Role: "worker", Name: "w1", Fault: "kill", Start: t0.Add(3 * time.Second), End: t0.Add(5 * time.Second)}, {Role: "queue", Fault: "partition", Start: t0.Add(4 * time.Second), End: t0.Add(9 * time.Second)}}},
	}
	in := inputs(specs, func(f string) bool { return f != "versions" })
	in.Profiles, in.Started = []string{"core", "resilience"}, t0
	return Compute(in)
}

// plotsDrawn counts the plots the browser drew.
const plotsDrawn = `document.querySelectorAll("svg.plot").length`

func TestHTMLRendersWithoutErrors(t *testing.T) {
	dir := t.TempDir()
	if err := WriteAll(dir, sampleReport()); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"OUT-7 &lt;stream&gt; &amp; worker", "failed/worker_lost", "Fault windows", "declared bound", "interactive objective"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if bytes.Contains(page, []byte("<script")) || bytes.Contains(page, []byte("http://")) && !bytes.Contains(page, []byte(`xmlns="http://www.w3.org/2000/svg"`)) {
		t.Error("report.html holds a script or fetches something")
	}
	shot := filepath.Join(browsercheck.Artefacts(t), "report-html-sample.png")
	if plots := browsercheck.Check[int](t, filepath.Join(dir, HTMLFile), plotsDrawn, shot); plots != 7 { // 5 recorded plots, the run's fault timeline and OUT-7's
		t.Errorf("chromium drew %d plots, want 7", plots)
	}
}

// TestRecordedReportInBrowser checks the report.html of a real run when ARCERT_REPORT_DIR names
// its directory (certify --out), and keeps the screenshot beside it.
func TestRecordedReportInBrowser(t *testing.T) {
	t.Logf("%d plots", browsercheck.CheckRecorded[int](t, "ARCERT_REPORT_DIR", HTMLFile, plotsDrawn))
}
