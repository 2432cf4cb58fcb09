package page

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aruntime/arcert/internal/browsercheck"
)

// The page is checked in a real headless chromium (internal/browsercheck), as
// conformance/report checks certify's: no console error or warning (a blocked fetch is one), and
// the elements a reader needs drawn.

// drawn counts what the browser drew: the tenant panels, the shaded fault windows, the latency
// lines, the marks and the probes.
type drawn struct {
	Series  int `json:"series"`
	Faults  int `json:"faults"`
	Latency int `json:"latency"`
	Marks   int `json:"marks"`
	Probes  int `json:"probes"`
}

// countDrawn is the expression the browser evaluates into drawn.
const countDrawn = `({
	series: document.querySelectorAll("svg[data-series]").length,
	faults: document.querySelectorAll("svg[data-series] rect[data-fault]").length,
	latency: document.querySelectorAll("svg[data-series] path[data-latency]").length,
	marks: document.querySelectorAll("svg[data-series] [data-mark]").length,
	probes: document.querySelectorAll("svg[data-series] [data-probe]").length,
})`

// screenshotPath is where the page's screenshot is kept: $GAMEDAY_SCREENSHOT (the README's
// picture), else gameday-report.png in $ARCERT_ARTEFACTS, else in a directory under the
// system's temporary one that outlives the test.
func screenshotPath(t *testing.T) string {
	if p := os.Getenv("GAMEDAY_SCREENSHOT"); p != "" {
		return p
	}
	return filepath.Join(browsercheck.Artefacts(t), "gameday-report.png")
}

func TestPageInBrowser(t *testing.T) {
	dir, _ := writePage(t)
	d := browsercheck.Check[drawn](t, filepath.Join(dir, File), countDrawn, screenshotPath(t))
	want := drawn{Series: fixtureTenants, Faults: fixtureTenants * fixtureFaults, Latency: fixtureTenants * 2, Marks: fixtureTenants * 2, Probes: fixtureTenants * 2}
	if d != want {
		t.Errorf("chromium drew %+v, want %+v", d, want)
	}
}

// TestRecordedPageInBrowser checks the report.html of a real game day when GAMEDAY_REPORT_DIR
// names its output directory, and keeps the screenshot beside it.
func TestRecordedPageInBrowser(t *testing.T) {
	t.Logf("drew %+v", browsercheck.CheckRecorded[drawn](t, "GAMEDAY_REPORT_DIR", File, countDrawn))
}
