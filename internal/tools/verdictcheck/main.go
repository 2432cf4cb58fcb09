// Command verdictcheck reads the report.json of each certified configuration and checks the
// verdicts a correct harness must reach about a runtime whose behaviour is known (Ollama: a
// prompt cache shared by every caller), as a declarative file lists them; and that no
// requirement passes on zero judged samples. It prints each report as a table and exits 1 when
// an expectation is not met (a configuration without a report meets none), 2 when a file
// cannot be read.
//
//	go run ./internal/tools/verdictcheck -expect deploy/ollama/expect.yaml -dir REPORTS
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/aruntime/arcert/conformance/report"
)

func main() {
	expect := flag.String("expect", "deploy/ollama/expect.yaml", "expectations file")
	dir := flag.String("dir", ".", "directory the expectations' report paths are relative to")
	flag.Parse()
	e, err := loadExpectations(*expect)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verdictcheck:", err)
		os.Exit(2)
	}
	unmet, err := check(os.Stdout, e, *dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verdictcheck:", err)
		os.Exit(2)
	}
	if len(unmet) > 0 {
		fmt.Fprintf(os.Stderr, "verdictcheck: %d expectations not met:\n", len(unmet))
		for _, u := range unmet {
			fmt.Fprintln(os.Stderr, "  "+u)
		}
		os.Exit(1)
	}
	fmt.Println("verdictcheck: every expectation met")
}

// check prints every configuration's table and returns the expectations not met, one line each.
func check(w io.Writer, e *Expectations, dir string) ([]string, error) {
	var unmet []string
	for _, c := range e.Configurations {
		r, err := readReport(filepath.Join(dir, c.Report))
		if errors.Is(err, fs.ErrNotExist) {
			// The run wrote no report (arcert stopped at preflight, or crashed): every expectation
			// of the configuration is unmet, and the others are still checked.
			fmt.Fprintf(w, "\n%s: no report at %s\n", c.Name, c.Report)
			unmet = append(unmet, fmt.Sprintf("%s: no report, so none of its %d expectations can be met", c.Name, len(c.Requirements)))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		marks := map[string][]string{}
		byID := map[string]report.Requirement{}
		for _, q := range r.Requirements {
			byID[q.ID] = q
		}
		for _, x := range c.Requirements {
			q, ok := byID[x.Requirement]
			if !ok {
				unmet = append(unmet, fmt.Sprintf("%s: %s is not in the report", c.Name, x.Requirement))
				continue
			}
			ok, words := x.met(q.Result)
			mark := "ok: " + words
			if !ok {
				mark = "UNMET: " + words
				line := fmt.Sprintf("%s: %s is %s, expected %s (%s)", c.Name, q.ID, q.Result, words, x.Why)
				if q.Message != "" {
					// The whole message, not the table's note: CI keeps only what is printed, and
					// the failure's last lines (what a wait last saw) are what a flake is read from.
					line += "\n    " + shortenMiddle(q.Message, messageHead, messageTail)
				}
				unmet = append(unmet, line)
			}
			marks[q.ID] = append(marks[q.ID], mark)
		}
		if e.NoPassWithoutSamples {
			for _, q := range r.Requirements {
				if q.Result == report.Pass && judged(q) == 0 {
					marks[q.ID] = append(marks[q.ID], "UNMET: PASS on no samples")
					unmet = append(unmet, fmt.Sprintf("%s: %s passed on zero judged samples", c.Name, q.ID))
				}
			}
		}
		fmt.Fprintf(w, "\n%s (%s, seed %d, %.0fs)\n", c.Name, r.Implementation, r.Seed, r.DurationSecs)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REQ\tRESULT\tSAMPLES\tEXPECTATION\tNOTE")
		for _, q := range r.Requirements {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", q.ID, q.Result, judged(q), strings.Join(marks[q.ID], "; "), shorten(q.Note, 100))
		}
		if err := tw.Flush(); err != nil {
			return nil, err
		}
	}
	return unmet, nil
}

// judged is how many samples a requirement's specs judged, over every path.
func judged(q report.Requirement) int {
	n := 0
	for _, k := range q.Samples {
		n += k
	}
	return n
}

func readReport(path string) (*report.Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.SchemaVersion != report.SchemaVersion {
		return nil, fmt.Errorf("%s: schema %q, this checker reads %q", path, r.SchemaVersion, report.SchemaVersion)
	}
	return &r, nil
}

// messageHead and messageTail bound the requirement message an unmet expectation quotes: its
// start (what failed) and its end (what a wait last saw, the matcher's expectation).
const (
	messageHead = 600
	messageTail = 1400
)

// shortenMiddle keeps a message to one line of its first head and last tail runes, with an
// ellipsis between when it is longer.
func shortenMiddle(s string, head, tail int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= head+tail {
		return string(r)
	}
	return string(r[:head]) + " … " + string(r[len(r)-tail:])
}

// shorten keeps a note to one line of at most n runes.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
