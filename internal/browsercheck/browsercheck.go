// Package browsercheck opens a page the harness writes (certify's report.html, a game day's
// report.html) in a real headless chromium, for those pages' tests. A page is checked where
// people read it: the browser's console is the judge (a blocked fetch, a script error or a
// broken content security policy is an error there), the page's own elements are counted as the
// browser drew them, and a screenshot is kept for a person to look at. Both pages' tests share
// this one harness so they judge alike.
package browsercheck

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

// Timeout bounds one check, from starting the browser to the screenshot: a page that never
// loads fails the test rather than hanging it.
const Timeout = 90 * time.Second

// endMarker is the console message the check writes last: messages come in order, so every
// message of the page is read before it.
const endMarker = "arcert: browser check done"

// loaded resolves once the page and everything it draws have loaded.
const loaded = `new Promise(r => document.readyState === "complete" ? r(true) : addEventListener("load", () => r(true)))`

// Chromium is the headless browser pages are checked in. Outside CI a machine without one skips
// the test; in CI (CI set) its absence fails it, since .ci/run installs it.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH, and CI is set: .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH: the page is not checked in a browser (apt-get install chromium)")
	return ""
}

// Result is what the browser made of a page.
type Result[T any] struct {
	Problems []string // console errors, warnings and exceptions, in the order they came
	Counted  T        // what the count expression evaluated to once the page had loaded
	PNG      []byte   // a full-page screenshot
}

// Open opens file in headless chromium (1280×900), waits for it to load, evaluates count (a
// JavaScript expression whose value decodes into T: a number, or an object of counts) and takes
// a screenshot. It skips the test when Chromium does, and fails it when the browser cannot open,
// count or photograph the page.
func Open[T any](t testing.TB, file, count string) (r Result[T]) {
	t.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(Chromium(t)), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	read := readConsole(bctx)
	// No timeout on the context of the first Run: it would end the browser (chromedp.NewContext).
	timer := time.AfterFunc(Timeout, cancelBrowser)
	defer timer.Stop()
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+abs), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("opening %s in chromium: %v", file, err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](loaded, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("waiting for %s to load: %v", file, err)
	}
	if r.Counted, err = chromedp.Run(bctx, chromedp.Evaluate[T](count)); err != nil {
		t.Fatalf("counting what %s drew: %v", file, err)
	}
	if r.PNG, err = chromedp.Run(bctx, chromedp.FullScreenshot(100)); err != nil {
		t.Fatalf("taking a screenshot of %s: %v", file, err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[any](`console.info("`+endMarker+`")`)); err != nil {
		t.Fatalf("ending the check of %s: %v", file, err)
	}
	r.Problems = <-read
	return r
}

// Check is Open as a page's test wants it: it fails the test (and goes on) when the browser
// reported any problem, keeps the screenshot at shot, and returns what count counted.
func Check[T any](t testing.TB, file, count, shot string) T {
	t.Helper()
	r := Open[T](t, file, count)
	if len(r.Problems) > 0 {
		t.Errorf("chromium reported: %s", strings.Join(r.Problems, "; "))
	}
	if err := os.WriteFile(shot, r.PNG, 0o600); err != nil {
		t.Fatalf("keeping the screenshot of %s: %v", file, err)
	}
	t.Logf("screenshot: %s", shot)
	return r.Counted
}

// CheckRecorded is Check on a page a real run wrote: the file named page in the directory the
// environment variable env names, with the screenshot kept beside it as report.png. Without env
// there is no recorded run, and the test skips.
func CheckRecorded[T any](t testing.TB, env, page, count string) T {
	t.Helper()
	dir := os.Getenv(env)
	if dir == "" {
		t.Skipf("%s is not set: no recorded run to check", env)
	}
	return Check[T](t, filepath.Join(dir, page), count, filepath.Join(dir, "report.png"))
}

// readConsole collects the console's errors, warnings and exceptions until the end marker (or
// the browser ends) and then sends them, once.
func readConsole(bctx context.Context) <-chan []string {
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
	return read
}

// Artefacts is where screenshots are kept: $ARCERT_ARTEFACTS (CI keeps it), else a directory
// under the system's temporary one that outlives the test.
func Artefacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ARCERT_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "arcert-artefacts")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}
