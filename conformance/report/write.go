package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aruntime/arcert/internal/junit"
)

// Files written into the output directory.
const (
	JSONFile    = "report.json"
	JUnitFile   = "junit.xml"
	SummaryFile = "summary.md"
	HTMLFile    = "report.html"
)

// WriteAll writes report.json, junit.xml, summary.md and report.html into dir, creating it.
func WriteAll(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for name, write := range map[string]func(io.Writer, *Report) error{
		JSONFile: WriteJSON, JUnitFile: WriteJUnit, SummaryFile: WriteMarkdown, HTMLFile: WriteHTML,
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

// WriteJUnit writes one test case per requirement, one suite per profile: CI shows a failed
// requirement as a failed test, an INVALID or INCONCLUSIVE one (the check could not be judged) as
// an error, and NOT_SUPPORTED or NOT_RUN as skipped, never as passed.
func WriteJUnit(w io.Writer, r *Report) error {
	stamp := r.Started.UTC().Format("2006-01-02T15:04:05")
	all := junit.Suites{Name: "arcert " + r.Implementation, Time: junit.Seconds(r.DurationSecs), Timestamp: stamp}
	for _, p := range r.Profiles {
		s := junit.Suite{Name: "profile:" + p.Name, Timestamp: stamp}
		took := 0.0
		for _, q := range r.Requirements {
			if q.Profile != p.Name {
				continue
			}
			took += q.DurationSecs
			out := q.Evidence
			if l := q.BasisLabel(); l != "" {
				// JUnit has no field for it: the first line of the case's output says what the PASS rests on.
				out = append([]string{"basis: " + string(q.Basis) + " (" + l + ")"}, out...)
			}
			c := junit.Case{Name: q.ID + " " + q.Title, Classname: "arcert." + p.Name, Time: junit.Seconds(q.DurationSecs), SystemOut: strings.Join(out, "\n")}
			m := junit.Message{Message: junit.OneLine(string(q.Result), q.Note), Type: string(q.Result), Text: q.Message}
			s.Add(c, outcome(q.Result), m)
		}
		s.Time = junit.Seconds(took)
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Errors += s.Errors
		all.Skipped += s.Skipped
		all.Suites = append(all.Suites, s)
	}
	return junit.Write(w, all)
}

// outcome is a requirement's result in JUnit's terms.
func outcome(res Result) junit.Outcome {
	switch res {
	case Pass:
		return junit.Passed
	case NotSupported, NotRun:
		return junit.Skipped
	case Fail:
		return junit.Failed
	default:
		return junit.Errored
	}
}

// WriteMarkdown writes the summary a person reads first.
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# arcert certification: %s\n\n", r.Implementation)
	fmt.Fprintf(&b, "Target `%s` (%s), harness %s, seed %d, nonce %s, %s, %.1f s.\n\n", r.Target.Source, r.Target.Digest, r.HarnessVersion, r.Seed, r.Nonce, r.Started.Format("2006-01-02 15:04:05 MST"), r.DurationSecs)
	if s := r.Target.Spread(); s != "" {
		fmt.Fprintf(&b, "The %s.\n\n", s)
	}
	b.WriteString("| profile | result | passed |\n|---|---|---|\n")
	for _, p := range r.Profiles {
		fmt.Fprintf(&b, "| %s | **%s** | %s |\n", p.Name, p.Result, p.Counted())
	}
	b.WriteString("\n| requirement | level | result | title | note |\n|---|---|---|---|---|\n")
	for _, q := range r.Requirements {
		note := q.Note
		if s := q.SamplesJudged(); q.Result == Pass && s != "" && s != note {
			note += " (" + s + ")"
		}
		if l := q.BasisLabel(); l != "" {
			note = "**" + l + "**: " + note
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
	if r := []rune(s); len(r) > 240 {
		s = string(r[:240]) + "…"
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
