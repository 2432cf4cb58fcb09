package journal

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aruntime/arcert/chaos/scenario"
)

// The JUnit shapes are certify's (conformance/report): a suite of cases, each with at most one
// failure, error or skipped element, so CI tools read both the same way.
type junitSuites struct {
	XMLName   xml.Name     `xml:"testsuites"`
	Name      string       `xml:"name,attr"`
	Tests     int          `xml:"tests,attr"`
	Failures  int          `xml:"failures,attr"`
	Errors    int          `xml:"errors,attr"`
	Skipped   int          `xml:"skipped,attr"`
	Time      string       `xml:"time,attr"`
	Timestamp string       `xml:"timestamp,attr"`
	Suites    []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// junitMessageMax bounds a message attribute, which CI shows on one line; the whole text is the
// element's body.
const junitMessageMax = 200

// WriteJUnit writes junit.xml: one suite for the game day and one case per Check, so a game day
// gates a CI pipeline like certify does. As in certify, FAIL is a failure (the runtime did not
// behave as hypothesised: an expectation, the steady state, the residue, the recovery, or an
// abort rule that fired); INVALID and INCONCLUSIVE are errors (the day could not judge it: too
// few samples, a fault that did not run, the harness failing), never a pass; NOT_RUN is skipped.
func WriteJUnit(w io.Writer, j Journal) error {
	stamp := j.Start.UTC().Format("2006-01-02T15:04:05")
	took := seconds(span(j.Start, j.End))
	s := junitSuite{Name: "gameday:" + j.Scenario.Name, Time: took, Timestamp: stamp}
	for _, c := range Checks(j) {
		class := "gameday." + j.Scenario.Name
		if c.Phase != "" {
			class += "." + c.Phase
		}
		jc := junitCase{Name: c.Name, Classname: class, Time: seconds(c.Took)}
		if c.Kind == KindExpectation && c.Result.Verdict != NotRun {
			jc.SystemOut = fmt.Sprintf("%d requests judged", c.Samples)
		}
		m := &junitMessage{Message: oneLine(c.Result), Type: string(c.Result.Verdict), Text: c.Result.Message}
		switch c.Result.Verdict {
		case scenario.Pass:
		case NotRun:
			jc.Skipped, m.Type, m.Text = m, "", ""
			s.Skipped++
		case scenario.Fail:
			jc.Failure = m
			s.Failures++
		default:
			jc.Error = m
			s.Errors++
		}
		s.Tests++
		s.Cases = append(s.Cases, jc)
	}
	all := junitSuites{Name: "arcert gameday " + j.Scenario.Name, Tests: s.Tests, Failures: s.Failures, Errors: s.Errors,
		Skipped: s.Skipped, Time: took, Timestamp: stamp, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// oneLine is the verdict and the first line of its message, bounded, for a message attribute.
func oneLine(r scenario.Result) string {
	s := string(r.Verdict)
	if line, _, _ := bytes.Cut([]byte(r.Message), []byte("\n")); len(line) > 0 {
		s += ": " + string(line)
	}
	if rs := []rune(s); len(rs) > junitMessageMax {
		s = string(rs[:junitMessageMax]) + "…"
	}
	return s
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

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
