package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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

// chromium is the headless browser the page is checked in. Outside CI a machine without one
// skips; in CI (CI set) its absence fails, since .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH, and CI is set: .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH: report.html is not checked in a browser (apt-get install chromium)")
	return ""
}

// endMarker is the console message the check writes last: messages come in order, so every
// message of the page is read before it.
const endMarker = "arcert: browser check done"

// inBrowser opens file in headless chromium and returns what the console and the browser's log
// reported as errors or warnings, how many plots the page drew, and a full-page PNG screenshot.
func inBrowser(t *testing.T, file string) (problems []string, plots int, png []byte) {
	t.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	messages := chromedp.Console(bctx)
	read := make(chan []string, 1)
	go func() {
		var out []string
		for m, err := range messages {
			switch {
			case err != nil:
				out = append(out, "reading the console: "+err.Error())
			case m.Type == chromedp.ConsoleInfo && m.Text == endMarker:
			case m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException():
				out = append(out, m.String())
				continue
			default:
				continue
			}
			break
		}
		read <- out
	}()
	// No timeout on the context of the first Run: it would end the browser (chromedp.NewContext).
	timer := time.AfterFunc(90*time.Second, cancelBrowser)
	defer timer.Stop()
	loaded := `new Promise(r => document.readyState === "complete" ? r(true) : addEventListener("load", () => r(true)))`
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+abs), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("opening %s in chromium: %v", file, err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](loaded, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("waiting for %s to load: %v", file, err)
	}
	if plots, err = chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.plot").length`)); err != nil {
		t.Fatalf("counting the plots of %s: %v", file, err)
	}
	if png, err = chromedp.Run(bctx, chromedp.FullScreenshot(100)); err != nil {
		t.Fatalf("taking a screenshot of %s: %v", file, err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[any](`console.info("`+endMarker+`")`)); err != nil {
		t.Fatalf("ending the check of %s: %v", file, err)
	}
	return <-read, plots, png
}

// artefacts is where screenshots are kept: $ARCERT_ARTEFACTS, else a directory under the
// system's temporary one that outlives the test.
func artefacts(t *testing.T) string {
	dir := os.Getenv("ARCERT_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "arcert-artefacts")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}

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
	problems, plots, png := inBrowser(t, filepath.Join(dir, HTMLFile))
	if len(problems) > 0 {
		t.Errorf("chromium reported: %s", strings.Join(problems, "; "))
	}
	if plots != 7 { // 5 recorded plots, the run's fault timeline and OUT-7's
		t.Errorf("chromium drew %d plots, want 7", plots)
	}
	shot := filepath.Join(artefacts(t), "report-html-sample.png")
	if err := os.WriteFile(shot, png, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
}

// TestBrowserCheckSeesErrors proves the check can fail: a page that fetches something breaks
// its own content security policy, and chromium says so.
func TestBrowserCheckSeesErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.html")
	bad := `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head>` +
		`<body><img src="http://127.0.0.1:9/x.png"></body></html>`
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if problems, _, _ := inBrowser(t, file); len(problems) == 0 {
		t.Fatal("a page that breaks its content security policy passed the browser check")
	}
}

// TestRecordedReportInBrowser checks the report.html of a real run when ARCERT_REPORT_DIR names
// its directory (certify --out), and keeps the screenshot beside it.
func TestRecordedReportInBrowser(t *testing.T) {
	dir := os.Getenv("ARCERT_REPORT_DIR")
	if dir == "" {
		t.Skip("ARCERT_REPORT_DIR is not set: no recorded run to check")
	}
	problems, plots, png := inBrowser(t, filepath.Join(dir, HTMLFile))
	if len(problems) > 0 {
		t.Errorf("chromium reported: %s", strings.Join(problems, "; "))
	}
	shot := filepath.Join(dir, "report.png")
	if err := os.WriteFile(shot, png, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d plots; screenshot: %s", plots, shot)
}
