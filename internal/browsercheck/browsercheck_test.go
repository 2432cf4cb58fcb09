package browsercheck

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func writeHTML(t *testing.T, html string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(file, []byte(html), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestOpenSeesErrors proves the check can fail: a page that fetches something breaks its own
// content security policy, and chromium says so.
func TestOpenSeesErrors(t *testing.T) {
	file := writeHTML(t, `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head>`+
		`<body><img src="http://127.0.0.1:9/x.png"></body></html>`)
	if r := Open[int](t, file, `0`); len(r.Problems) == 0 {
		t.Fatal("a page that breaks its content security policy passed the browser check")
	}
}

// TestOpenCountsAndPhotographs checks a clean page: no problem reported, the count is what the
// browser drew, and the screenshot is a PNG.
func TestOpenCountsAndPhotographs(t *testing.T) {
	file := writeHTML(t, `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head>`+
		`<body><svg class="plot"></svg><svg class="plot"></svg><svg></svg></body></html>`)
	type drawn struct {
		Plots int `json:"plots"`
		All   int `json:"all"`
	}
	r := Open[drawn](t, file, `({plots: document.querySelectorAll("svg.plot").length, all: document.querySelectorAll("svg").length})`)
	if len(r.Problems) > 0 {
		t.Errorf("a clean page had problems: %q", r.Problems)
	}
	if want := (drawn{Plots: 2, All: 3}); r.Counted != want {
		t.Errorf("counted %+v, want %+v", r.Counted, want)
	}
	if !bytes.HasPrefix(r.PNG, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("the screenshot is not a PNG: %d bytes starting %q", len(r.PNG), r.PNG[:min(8, len(r.PNG))])
	}
}

// TestCheckRecordedKeepsTheScreenshot checks a recorded run's page from the directory the
// environment names, and that its screenshot is kept beside it.
func TestCheckRecordedKeepsTheScreenshot(t *testing.T) {
	file := writeHTML(t, `<!DOCTYPE html><html><body><svg class="plot"></svg></body></html>`)
	dir := filepath.Dir(file)
	t.Setenv("BROWSERCHECK_TEST_DIR", dir)
	if n := CheckRecorded[int](t, "BROWSERCHECK_TEST_DIR", filepath.Base(file), `document.querySelectorAll("svg.plot").length`); n != 1 {
		t.Errorf("counted %d plots, want 1", n)
	}
	if png, err := os.ReadFile(filepath.Join(dir, "report.png")); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("no PNG screenshot kept beside the page (%v)", err)
	}
}
