package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reportJSON is a hand-made report.json with one requirement per entry: id, result, and the
// samples it judged ("" for none).
func reportJSON(reqs ...[3]string) string {
	var parts []string
	for _, q := range reqs {
		samples := ""
		if q[2] != "" {
			samples = `,"samples":{` + q[2] + `}`
		}
		parts = append(parts, `{"id":"`+q[0]+`","level":"MUST","profile":"core","feature":"prefix-cache","title":"t","result":"`+q[1]+`","note":"n","evidence":[],"specs":[],"duration_seconds":1`+samples+`}`)
	}
	return `{"schema_version":"arcert.report/v1","implementation":"ollama","seed":1,"requirements":[` + strings.Join(parts, ",") + `]}`
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const expectYAML = `
no_pass_without_samples: true
configurations:
  - name: multi
    report: multi/report.json
    requirements:
      - {requirement: TEN-3, is: FAIL, why: shared multi-slot cache}
  - name: one
    report: one/report.json
    requirements:
      - {requirement: TEN-3, not: PASS, why: shared one-slot cache}
`

func run(t *testing.T, multi, one string) ([]string, string) {
	t.Helper()
	dir := t.TempDir()
	e, err := loadExpectations(write(t, dir, "expect.yaml", expectYAML))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "multi/report.json", multi)
	write(t, dir, "one/report.json", one)
	var out bytes.Buffer
	unmet, err := check(&out, e, dir)
	if err != nil {
		t.Fatal(err)
	}
	return unmet, out.String()
}

// TestVerdictsAsExpected: the verdicts a correct harness reaches meet every expectation, and
// the table shows each requirement with its samples.
func TestVerdictsAsExpected(t *testing.T) {
	unmet, out := run(t,
		reportJSON([3]string{"TEN-3", "FAIL", `"round":12`}, [3]string{"OUT-1", "PASS", `"served":5,"refused":2`}),
		reportJSON([3]string{"TEN-3", "INCONCLUSIVE", `"round":3`}, [3]string{"TEN-1", "NOT_SUPPORTED", ""}))
	if len(unmet) != 0 {
		t.Fatalf("unmet: %v\n%s", unmet, out)
	}
	for _, want := range []string{"TEN-3  FAIL", "OUT-1  PASS", "7 ", "ok: is FAIL", "ok: not PASS"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestWrongVerdictsAreUnmet: TEN-3 passing, TEN-3 missing, and a PASS on zero samples are each
// reported, naming the configuration and requirement.
func TestWrongVerdictsAreUnmet(t *testing.T) {
	unmet, out := run(t,
		reportJSON([3]string{"TEN-3", "PASS", `"round":12`}, [3]string{"OUT-1", "PASS", ""}),
		reportJSON([3]string{"TEN-2", "PASS", `"pair":0`}))
	want := []string{
		"multi: TEN-3 is PASS, expected is FAIL (shared multi-slot cache)",
		"multi: OUT-1 passed on zero judged samples",
		"one: TEN-3 is not in the report",
		"one: TEN-2 passed on zero judged samples",
	}
	if strings.Join(unmet, "\n") != strings.Join(want, "\n") {
		t.Fatalf("unmet:\n%s\nwant:\n%s\n%s", strings.Join(unmet, "\n"), strings.Join(want, "\n"), out)
	}
}

// TestBadExpectationsAreRefused: an expectation must be exactly one of is/not and a real result;
// unknown fields are mistakes, not ignored.
func TestBadExpectationsAreRefused(t *testing.T) {
	for name, body := range map[string]string{
		"both":    "configurations: [{name: a, report: r, requirements: [{requirement: X, is: PASS, not: FAIL}]}]",
		"neither": "configurations: [{name: a, report: r, requirements: [{requirement: X}]}]",
		"result":  "configurations: [{name: a, report: r, requirements: [{requirement: X, is: GREEN}]}]",
		"unknown": "configurations: [{name: a, report: r, requirments: []}]",
		"empty":   "no_pass_without_samples: true",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := loadExpectations(write(t, t.TempDir(), "e.yaml", body)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestMissingReportIsUnmet: a configuration whose run wrote no report meets none of its
// expectations, and the other configurations are still checked.
func TestMissingReportIsUnmet(t *testing.T) {
	dir := t.TempDir()
	e, err := loadExpectations(write(t, dir, "expect.yaml", expectYAML))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "one/report.json", reportJSON([3]string{"TEN-3", "PASS", `"round":3`}))
	unmet, err := check(&bytes.Buffer{}, e, dir)
	want := "multi: no report, so none of its 1 expectations can be met\none: TEN-3 is PASS, expected not PASS (shared one-slot cache)"
	if err != nil || strings.Join(unmet, "\n") != want {
		t.Fatalf("err %v, unmet:\n%s\nwant:\n%s", err, strings.Join(unmet, "\n"), want)
	}
}

// TestForeignReportIsAnError: a report of another schema stops the check rather than being
// read as if it were one.
func TestForeignReportIsAnError(t *testing.T) {
	dir := t.TempDir()
	e, err := loadExpectations(write(t, dir, "expect.yaml", expectYAML))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "multi/report.json", `{"schema_version":"other/v9"}`)
	if _, err := check(&bytes.Buffer{}, e, dir); err == nil || !strings.Contains(err.Error(), "other/v9") {
		t.Fatalf("a foreign report: %v", err)
	}
}

// TestUnmetQuotesTheFailure: an unmet expectation quotes the requirement's message on a line of
// its own, since CI keeps only what is printed and the table's note is cut at 100 runes: whole
// when it is short, else its start and its end (where a wait's last reading is), on one line.
func TestUnmetQuotesTheFailure(t *testing.T) {
	short := strings.Repeat("w", 150) + " did not come back: Expected <string>: abc@sha256:1 to have suffix"
	long := "FIRST " + strings.Repeat("x ", messageHead+messageTail) + "\n   at the last poll LAST"
	for name, tc := range map[string]struct{ message, start, end string }{
		"short": {short, short, short},
		"long":  {long, "FIRST x", "at the last poll LAST"},
	} {
		t.Run(name, func(t *testing.T) {
			message, _ := json.Marshal(tc.message)
			report := strings.Replace(reportJSON([3]string{"TEN-3", "PASS", `"round":12`}), `"note":"n"`, `"note":"n","message":`+string(message), 1)
			unmet, _ := run(t, report, reportJSON([3]string{"TEN-3", "FAIL", `"round":3`}))
			if len(unmet) == 0 {
				t.Fatal("TEN-3 passing is met")
			}
			quoted, ok := strings.CutPrefix(unmet[0][strings.Index(unmet[0], "\n"):], "\n    ")
			switch {
			case !ok || strings.Contains(quoted, "\n"):
				t.Fatalf("the message is not quoted on one line of its own:\n%s", unmet[0])
			case !strings.HasPrefix(quoted, tc.start) || !strings.HasSuffix(quoted, tc.end):
				t.Fatalf("the quote does not run from %q to %q:\n%s", tc.start, tc.end, quoted)
			case len([]rune(quoted)) > messageHead+messageTail+3:
				t.Fatalf("the quote is %d runes, over %d", len([]rune(quoted)), messageHead+messageTail+3)
			}
		})
	}
}
