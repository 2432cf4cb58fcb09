package journal

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aruntime/arcert/chaos/scenario"
)

func TestChecksListEveryVerdict(t *testing.T) {
	var got []string
	for _, c := range Checks(sampleJournal()) {
		got = append(got, string(c.Kind)+" "+c.Name+" "+string(c.Result.Verdict))
	}
	want := []string{
		"steady_before steady state before PASS",
		"expectation acme served PASS",
		"expectation acme/interactive FAIL",
		"expectation beta policy INVALID",
		"expectation acme back NOT_RUN",
		"fault fault eu-down PASS",
		"fault fault cache | slow INCONCLUSIVE",
		"abort no abort FAIL",
		"steady_after steady state after PASS",
		"residue no residue PASS",
		"recovery recovery PASS",
		"harness harness PASS",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Checks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestJUnitGatesCI(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, sampleJournal()); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, buf.String())
	}
	if doc.Tests != 12 || doc.Failures != 2 || doc.Errors != 2 || doc.Skipped != 1 || len(doc.Suites) != 1 {
		t.Fatalf("junit counts tests=%d failures=%d errors=%d skipped=%d suites=%d, want 12/2/2/1/1", doc.Tests, doc.Failures, doc.Errors, doc.Skipped, len(doc.Suites))
	}
	byName := map[string]junitCase{}
	for _, c := range doc.Suites[0].Cases {
		byName[c.Name] = c
	}
	if c := byName["acme/interactive"]; c.Failure == nil || c.Failure.Message != "FAIL: 180 of 250 served (72%), want 90%" ||
		!strings.Contains(c.Failure.Text, "second line") || c.Classname != "gameday.region-evacuation.evacuate" || c.Time != "25.000" {
		t.Errorf("the failed expectation's case: %+v", c)
	}
	if c := byName["beta policy"]; c.Error == nil || c.Error.Type != "INVALID" {
		t.Errorf("an INVALID expectation is not an error: %+v", c)
	}
	if c := byName["acme back"]; c.Skipped == nil {
		t.Errorf("an unreached expectation is not skipped: %+v", c)
	}
	if c := byName["no abort"]; c.Failure == nil || !strings.Contains(c.Failure.Message, "aborted by error_budget at +50.0 s") {
		t.Errorf("the abort is not a failure: %+v", c)
	}
	if c := byName["steady state after"]; c.Failure != nil || c.Error != nil || c.Skipped != nil {
		t.Errorf("a passed check is not a pass: %+v", c)
	}
}

func TestSummaryTellsTheDay(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSummary(&buf, sampleJournal()); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"# Game day: region-evacuation — **ABORTED**",
		"(sha256 3f79bb7b435b), target `embedded` (sha256 none), harness v0.9.0-test, seed 42",
		"| acme/interactive | evacuate | **FAIL** | 250 | 180 of 250 served (72%), want 90% second line |",
		"| fault cache \\| slow |  | **INCONCLUSIVE** |",
		"| eu-down | down |  | region/eu/gateway, region/eu/worker | 25.0 | 45.0 |  |",
		"| evacuate | 25.0 | 50.0 | 250 | 180 |",
		"- **Aborted** at 50.0 s by rule `error_budget`: acme unserved 28% > budget 20%",
		"- Rollback at 50.6 s: heal cache \\| slow, **failed**: proxy cache: 503",
		"- Recovery: 4.0 s against 10.0 s declared: **PASS**",
		"| acme | interactive | 450 | 380 | 84.4% | 0 | 0 | 0 | 40/90/210 | completed/ok 380, refused/dependency_unavailable 70 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q\n%s", want, md)
		}
	}
}

func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	if err := WriteAll(dir, sampleJournal()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{JournalFile, SummaryFile, JUnitFile} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSummarySaysWhenRollbackLeftResidue(t *testing.T) {
	j := sampleJournal()
	j.Status = scenario.StatusAborted
	j.Outcome.Residue = scenario.Result{Verdict: scenario.Fail, Message: "residue after rollback: heal cut failed"}
	var b strings.Builder
	if err := WriteSummary(&b, j); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "**Rollback left residue, the target is not as it was: residue after rollback: heal cut failed**") {
		t.Fatalf("summary:\n%s", b.String())
	}
}
