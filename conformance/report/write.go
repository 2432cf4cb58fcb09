package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Files written into the output directory.
const (
	JSONFile    = "report.json"
	JUnitFile   = "junit.xml"
	SummaryFile = "summary.md"
)

// WriteAll writes report.json, junit.xml and summary.md into dir, creating it.
func WriteAll(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for name, write := range map[string]func(io.Writer, *Report) error{
		JSONFile: WriteJSON, JUnitFile: WriteJUnit, SummaryFile: WriteMarkdown,
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		werr := write(f, r)
		cerr := f.Close()
		if werr != nil {
			return fmt.Errorf("report: %s: %w", name, werr)
		}
		if cerr != nil {
			return fmt.Errorf("report: %s: %w", name, cerr)
		}
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes one test case per requirement, one suite per profile: CI shows a failed
// requirement as a failed test, and NOT_SUPPORTED or NOT_RUN as skipped, never as passed.
func WriteJUnit(w io.Writer, r *Report) error {
	all := junitSuites{Name: "arcert " + r.Implementation, Time: r.DurationSecs}
	for _, p := range r.Profiles {
		s := junitSuite{Name: "profile:" + p.Name}
		for _, q := range r.Requirements {
			if q.Profile != p.Name {
				continue
			}
			c := junitCase{Name: q.ID + " " + q.Title, Classname: "arcert." + p.Name, SystemOut: strings.Join(q.Evidence, "\n")}
			switch q.Result {
			case Pass:
			case NotSupported, NotRun:
				c.Skipped = &junitMessage{Message: string(q.Result) + ": " + q.Message}
				s.Skipped++
			default:
				c.Failure = &junitMessage{Message: string(q.Result) + ": " + q.Message, Type: string(q.Result), Text: q.Message}
				s.Failures++
			}
			s.Tests++
			s.Cases = append(s.Cases, c)
		}
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Skipped += s.Skipped
		all.Suites = append(all.Suites, s)
	}
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

// WriteMarkdown writes the summary a person reads first.
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# arcert certification: %s\n\n", r.Implementation)
	fmt.Fprintf(&b, "Target `%s` (%s), harness %s, seed %d, %s, %.1f s.\n\n", r.Target.Source, r.Target.Digest, r.HarnessVersion, r.Seed, r.Started.Format("2006-01-02 15:04:05 MST"), r.DurationSecs)
	b.WriteString("| profile | result | passed |\n|---|---|---|\n")
	for _, p := range r.Profiles {
		fmt.Fprintf(&b, "| %s | **%s** | %d / %d |\n", p.Name, p.Result, p.Pass, p.Total)
	}
	b.WriteString("\n| requirement | level | result | title | note |\n|---|---|---|---|---|\n")
	for _, q := range r.Requirements {
		note := q.Message
		if note == "" && len(q.Evidence) > 0 {
			note = q.Evidence[0]
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", q.ID, q.Level, q.Result, q.Title, escapeCell(note))
	}
	writeFaults(&b, r)
	if fails := r.MustFailures(); len(fails) > 0 {
		fmt.Fprintf(&b, "\n%d MUST requirement(s) did not pass.\n", len(fails))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeCell keeps a message on one table row.
func escapeCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// writeFaults lists every fault window of the run, offset from the run's start, so outcomes can
// be lined up with the faults that caused them.
func writeFaults(b *strings.Builder, r *Report) {
	header := false
	for _, q := range r.Requirements {
		for _, f := range q.Faults {
			if !header {
				b.WriteString("\n## Fault windows\n\n| requirement | fault | on | from (s) | to (s) |\n|---|---|---|---|---|\n")
				header = true
			}
			on := f.Role
			for _, part := range []string{f.Name, f.Part} {
				if part != "" {
					on += " " + part
				}
			}
			fmt.Fprintf(b, "| %s | %s | %s | %.2f | %.2f |\n", q.ID, f.Fault, on, f.Start.Sub(r.Started).Seconds(), f.End.Sub(r.Started).Seconds())
		}
	}
}
