package page

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/gameday/journal"
)

// writePage writes the fixture's ledger and report.html into a temporary directory.
func writePage(t *testing.T) (dir, page string) {
	t.Helper()
	dir = t.TempDir()
	j := writeFixture(t, dir)
	if err := Write(dir, j, filepath.Join(dir, journal.LedgerFile)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, File))
	if err != nil {
		t.Fatal(err)
	}
	return dir, string(data)
}

// fetches finds anything in a page that would make a browser fetch: a script or stylesheet by
// address, an image, frame or object source, a CSS url() or @import, or any http(s) address
// other than the SVG namespace.
var fetches = []*regexp.Regexp{
	regexp.MustCompile(`(?i)<script`),
	regexp.MustCompile(`(?i)<link\b`),
	regexp.MustCompile(`(?i)\b(src|href|srcset|data|poster|action)\s*=\s*["']?\s*(https?:|//)`),
	regexp.MustCompile(`(?i)url\(`),
	regexp.MustCompile(`(?i)@import`),
	regexp.MustCompile(`(?i)https?://`),
}

// svgNamespace is the one http address a page may hold: it names, it is never fetched.
const svgNamespace = `xmlns="http://www.w3.org/2000/svg"`

func TestPageFetchesNothing(t *testing.T) {
	_, page := writePage(t)
	page = strings.ReplaceAll(page, svgNamespace, "")
	for _, re := range fetches {
		if m := re.FindString(page); m != "" {
			t.Errorf("report.html would fetch something: %q matches %s", m, re)
		}
	}
	if !strings.Contains(page, `http-equiv="Content-Security-Policy" content="default-src 'none'`) {
		t.Error("report.html lacks the content security policy that forbids fetches")
	}
	// The check can fail: each pattern catches the fetch it is for.
	for _, bad := range []string{`<script>x()</script>`, `<link rel="stylesheet" href="a.css">`, `<img src="https://e.x/a.png">`,
		`style="background:url(a.png)"`, `@import "b.css";`, `<a href="http://example.com/">`} {
		caught := false
		for _, re := range fetches {
			caught = caught || re.MatchString(bad)
		}
		if !caught {
			t.Errorf("the fetch check misses %q", bad)
		}
	}
}

func TestPageShowsTheDay(t *testing.T) {
	_, page := writePage(t)
	for _, want := range []string{
		"<title>Game day: hosted-provider-brownout</title>",
		`class="banner aborted"`, "Abort rule <code>error_budget</code>: acme unserved 31% &gt; budget 25%",
		"sha256 <code>3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea</code>", "Seed 2026",
		`<span class="badge fail">FAIL</span>`, "beta &lt;never&gt; us", "71% served, want 90%",
		"latency=400ms &amp; jitter=100ms", `data-series="acme"`, `data-series="beta"`,
		`data-fault="eu-latency"`, `data-fault="cache-down"`, `data-mark="abort"`, `data-mark="rollback"`,
		`data-probe="before"`, `data-probe="after"`, `data-latency="p50"`, `data-latency="p99"`,
		"eu-latency · latency · provider/eu-hosted", "cache-down · down · cache/a, cache/b",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if n := strings.Count(page, "<svg "); n != fixtureTenants {
		t.Errorf("report.html draws %d panels, want %d", n, fixtureTenants)
	}
}

func TestPagePanelForATenantWithNoEntries(t *testing.T) {
	dir := t.TempDir()
	j := writeFixture(t, dir)
	j.Outcome.Totals = append(j.Outcome.Totals, j.Outcome.Totals[0])
	j.Outcome.Totals[len(j.Outcome.Totals)-1].Tenant = "silent"
	if err := Write(dir, j, filepath.Join(dir, journal.LedgerFile)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, File))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `data-series="silent"`) {
		t.Error("a tenant with totals but no ledger entries has no panel")
	}
}

func TestWriteNamesABadLedgerLine(t *testing.T) {
	dir := t.TempDir()
	j := writeFixture(t, dir)
	path := filepath.Join(dir, journal.LedgerFile)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("{not json\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	err = Write(dir, j, path)
	if err == nil || !regexp.MustCompile(`ledger\.jsonl:\d+: `).MatchString(err.Error()) {
		t.Errorf("Write on a ledger with a bad line = %v, want FILE:LINE", err)
	}
}

func TestPageOfAQuietDay(t *testing.T) {
	dir := t.TempDir()
	w, err := journal.CreateLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	j := journal.New(scenario.Outcome{Plan: "quiet", Status: scenario.StatusCompleted, Start: t0, End: t0}, "test", journal.File{Name: "quiet"}, journal.File{Name: "embedded"}, 0)
	if err := Write(dir, j, w.Path()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, File))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`class="banner completed"`, "0 requests in the ledger", `<span class="badge not_run">NOT_RUN</span>`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the page of a quiet day lacks %q", want)
		}
	}
	if strings.Contains(string(data), "NaN") || strings.Contains(string(data), "Inf") {
		t.Error("the page of a quiet day draws NaN or Inf coordinates")
	}
}

func TestTheBannerNeverClaimsACleanRollbackThatWasNot(t *testing.T) {
	j := journal.Journal{Status: scenario.StatusAborted}
	j.Outcome.Abort = &scenario.AbortRecord{Rule: scenario.RuleOperator, Reason: "enough"}
	j.Outcome.Residue = scenario.Result{Verdict: scenario.Fail, Message: "residue after rollback: heal cut failed"}
	b := build(j, Series{}).Banner
	if !strings.Contains(b, "Rollback left residue") || !strings.Contains(b, "heal cut failed") || strings.Contains(b, "everything was rolled back") || strings.Contains(b, "Everything was rolled back") {
		t.Fatalf("aborted with residue: %q", b)
	}
	j.Outcome.Residue = scenario.Result{Verdict: scenario.Pass, Message: "no residue"}
	if b := build(j, Series{}).Banner; !strings.Contains(b, "Everything was rolled back.") {
		t.Fatalf("aborted, clean: %q", b)
	}
}
