package journal

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/internal/junit"
)

// WriteJUnit writes junit.xml: one suite for the game day and one case per Check, so a game day
// gates a CI pipeline like certify does (both write through internal/junit). As in certify, FAIL
// is a failure (the runtime did not behave as hypothesised: an expectation, the steady state, the
// residue, the recovery, or an abort rule that fired); INVALID and INCONCLUSIVE are errors (the
// day could not judge it: too few samples, a fault that did not run, the harness failing), never
// a pass; NOT_RUN is skipped.
func WriteJUnit(w io.Writer, j Journal) error {
	stamp := j.Start.UTC().Format("2006-01-02T15:04:05")
	took := junit.Seconds(span(j.Start, j.End).Seconds())
	s := junit.Suite{Name: "gameday:" + j.Scenario.Name, Time: took, Timestamp: stamp}
	for _, c := range Checks(j) {
		class := "gameday." + j.Scenario.Name
		if c.Phase != "" {
			class += "." + c.Phase
		}
		jc := junit.Case{Name: c.Name, Classname: class, Time: junit.Seconds(c.Took.Seconds())}
		if c.Kind == KindExpectation && c.Result.Verdict != NotRun {
			jc.SystemOut = fmt.Sprintf("%d requests judged", c.Samples)
		}
		s.Add(jc, junitOutcome(c.Result.Verdict), junit.Message{Message: oneLine(c.Result), Type: string(c.Result.Verdict), Text: c.Result.Message})
	}
	return junit.Write(w, junit.Suites{Name: "arcert gameday " + j.Scenario.Name, Tests: s.Tests, Failures: s.Failures,
		Errors: s.Errors, Skipped: s.Skipped, Time: took, Timestamp: stamp, Suites: []junit.Suite{s}})
}

// junitOutcome is a verdict in JUnit's terms.
func junitOutcome(v scenario.Verdict) junit.Outcome {
	switch v {
	case scenario.Pass:
		return junit.Passed
	case NotRun:
		return junit.Skipped
	case scenario.Fail:
		return junit.Failed
	default:
		return junit.Errored
	}
}

// oneLine is the verdict and the first line of its message, for a message attribute.
func oneLine(r scenario.Result) string {
	line, _, _ := strings.Cut(r.Message, "\n")
	return junit.OneLine(string(r.Verdict), line)
}

// WriteAll writes journal.json, summary.md and junit.xml into dir, creating it. The ledger is
// written as the day runs (CreateLedger) and report.html by gameday/page.
func WriteAll(dir string, j Journal) error {
	if err := Write(dir, j); err != nil {
		return err
	}
	for name, write := range map[string]func(io.Writer, Journal) error{SummaryFile: WriteSummary, JUnitFile: WriteJUnit} {
		var buf bytes.Buffer
		if err := write(&buf, j); err != nil {
			return fmt.Errorf("journal: %s: %w", name, err)
		}
		if err := writeAtomic(filepath.Join(dir, name), buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
