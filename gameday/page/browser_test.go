package page

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The page is checked in a real headless chromium, as conformance/report checks certify's:
// no console error or warning (a blocked fetch is one), and the elements a reader needs drawn.

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

// drawn counts what the browser drew: the tenant panels, the shaded fault windows, the latency
// lines, the marks and the probes.
type drawn struct {
	Series  int `json:"series"`
	Faults  int `json:"faults"`
	Latency int `json:"latency"`
	Marks   int `json:"marks"`
	Probes  int `json:"probes"`
}

const countDrawn = `({
	series: document.querySelectorAll("svg[data-series]").length,
	faults: document.querySelectorAll("svg[data-series] rect[data-fault]").length,
	latency: document.querySelectorAll("svg[data-series] path[data-latency]").length,
	marks: document.querySelectorAll("svg[data-series] [data-mark]").length,
	probes: document.querySelectorAll("svg[data-series] [data-probe]").length,
})`

// inBrowser opens file in headless chromium and returns what the console reported as errors or
// warnings, what the page drew, and a full-page PNG screenshot.
func inBrowser(t *testing.T, file string) (problems []string, d drawn, png []byte) {
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
	if d, err = chromedp.Run(bctx, chromedp.Evaluate[drawn](countDrawn)); err != nil {
		t.Fatalf("counting what %s drew: %v", file, err)
	}
	if png, err = chromedp.Run(bctx, chromedp.FullScreenshot(100)); err != nil {
		t.Fatalf("taking a screenshot of %s: %v", file, err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[any](`console.info("`+endMarker+`")`)); err != nil {
		t.Fatalf("ending the check of %s: %v", file, err)
	}
	return <-read, d, png
}

// screenshotPath is where the page's screenshot is kept: $GAMEDAY_SCREENSHOT (the README's
// picture), else gameday-report.png in $ARCERT_ARTEFACTS, else in a directory under the
// system's temporary one that outlives the test.
func screenshotPath(t *testing.T) string {
	if p := os.Getenv("GAMEDAY_SCREENSHOT"); p != "" {
		return p
	}
	dir := os.Getenv("ARCERT_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "arcert-artefacts")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "gameday-report.png")
}

func TestPageInBrowser(t *testing.T) {
	dir, _ := writePage(t)
	problems, d, png := inBrowser(t, filepath.Join(dir, File))
	if len(problems) > 0 {
		t.Errorf("chromium reported: %s", strings.Join(problems, "; "))
	}
	want := drawn{Series: fixtureTenants, Faults: fixtureTenants * fixtureFaults, Latency: fixtureTenants * 2, Marks: fixtureTenants * 2, Probes: fixtureTenants * 2}
	if d != want {
		t.Errorf("chromium drew %+v, want %+v", d, want)
	}
	shot := screenshotPath(t)
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

// TestRecordedPageInBrowser checks the report.html of a real game day when GAMEDAY_REPORT_DIR
// names its output directory, and keeps the screenshot beside it.
func TestRecordedPageInBrowser(t *testing.T) {
	dir := os.Getenv("GAMEDAY_REPORT_DIR")
	if dir == "" {
		t.Skip("GAMEDAY_REPORT_DIR is not set: no recorded game day to check")
	}
	problems, d, png := inBrowser(t, filepath.Join(dir, File))
	if len(problems) > 0 {
		t.Errorf("chromium reported: %s", strings.Join(problems, "; "))
	}
	shot := filepath.Join(dir, "report.png")
	if err := os.WriteFile(shot, png, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("drew %+v; screenshot: %s", d, shot)
}
