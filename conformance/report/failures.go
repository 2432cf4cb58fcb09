package report

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// FailuresFile is the log, beside report.json, that keeps the whole text of every failed spec:
// the assertion's dump and where it failed. Reports and the console show one sentence per
// requirement and point here, because a Gomega dump (Go types, pointers, byte arrays) tells a
// person who did not write the harness nothing.
const FailuresFile = "failures.log"

// dumpStarts are the lines Gomega opens its formatted failure with; everything before the first
// of them is the assertion's own description, written for people.
var dumpStarts = []string{"Expected", "Unexpected error:", "Told to stop trying", "Failed after"}

// timedOut is the line Eventually's failure opens with, before the description: kept as a
// clause of the sentence.
var timedOut = regexp.MustCompile(`^Timed out after ([0-9.]+s)\.$`)

// typed is Gomega's annotation of a formatted value: "<*net.OpError | 0xc000…>: " or "<int>: ".
var typed = regexp.MustCompile(`^<[^>]*>:?\s*`)

// Condense turns a failed spec's message into one sentence for people: the assertion's
// description when it has one, with the error text when the failure is an unexpected error;
// for a bare Gomega dump, what was expected in plain words and where the check is. It never
// returns Go syntax from the dump; the dump itself belongs in FailuresFile.
func Condense(msg, location string) string {
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	after := ""
	if m := timedOut.FindStringSubmatch(strings.TrimSpace(lines[0])); m != nil {
		after, lines = " (gave up after "+m[1]+")", lines[1:]
	}
	cut := len(lines)
	for i, l := range lines {
		if startsDump(strings.TrimSpace(l)) {
			cut = i
			break
		}
	}
	desc := firstLine(strings.Join(lines[:cut], "\n"))
	cause := dumpCause(lines[cut:])
	switch {
	case desc != "" && cause != "" && isError(lines[cut]):
		return desc + ": " + cause + after
	case desc != "":
		return desc + after
	case cause != "":
		return "the check at " + shortLocation(location) + " failed: " + cause + after
	default:
		return "the check at " + shortLocation(location) + " failed" + after
	}
}

// isError reports whether a dump opens with an error the assertion did not expect: its text is
// the evidence, worth keeping beside the description.
func isError(head string) bool {
	head = strings.TrimSpace(head)
	return strings.HasPrefix(head, "Unexpected error") || strings.HasPrefix(head, "Expected success, but got an error")
}

func startsDump(line string) bool {
	for _, p := range dumpStarts {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// dumpCause reads a Gomega dump: for an unexpected error its Error() text (the line after the
// typed header), for a matcher "expected A <words> B" when A and B are short plain values.
func dumpCause(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	head := strings.TrimSpace(lines[0])
	switch {
	case isError(head):
		if len(lines) > 2 && typed.MatchString(strings.TrimSpace(lines[1])) {
			if text := strings.TrimSpace(lines[2]); plain(text) {
				return text
			}
		}
		return "an unexpected error"
	case head == "Expected" && len(lines) >= 3:
		got, ok := plainValue(lines[1])
		words := strings.TrimSpace(lines[2])
		if !ok || strings.HasPrefix(words, "<") {
			return ""
		}
		out := "expected " + got + " " + words
		if len(lines) >= 4 {
			want, ok := plainValue(lines[3])
			if !ok {
				return ""
			}
			out += " " + want
		}
		return out
	}
	return ""
}

// plainValue strips Gomega's type annotation from a formatted value and keeps it only when what
// is left reads as a plain value: no structure, no pointers.
func plainValue(line string) (string, bool) {
	v := typed.ReplaceAllString(strings.TrimSpace(line), "")
	return v, v != "" && len(v) <= 80 && plain(v)
}

// plain reports whether s carries none of a dump's Go syntax.
func plain(s string) bool {
	return s != "" && !strings.ContainsAny(s, "{}<>") && !strings.Contains(s, "0x")
}

// shortLocation is file:line of a failure, with the directory it is in ("suites/tenancy.go:57").
func shortLocation(loc string) string {
	if loc == "" {
		return "an unknown place"
	}
	dir, file := filepath.Split(loc)
	return filepath.Join(filepath.Base(filepath.Clean(dir)), file)
}

// FailureLog is the text of FailuresFile: every failed spec, with the requirements it checks,
// where it failed and its whole message.
func FailureLog(specs []SpecRecord) string {
	var b strings.Builder
	for _, s := range specs {
		if s.State != SpecFailed {
			continue
		}
		fmt.Fprintf(&b, "=== %s [%s]\n", s.Name, strings.Join(s.Requirements, ", "))
		if s.Location != "" {
			fmt.Fprintf(&b, "at %s\n", s.Location)
		}
		fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(s.Message))
	}
	return b.String()
}

// WriteFailureLog writes FailuresFile into dir when a spec failed, and returns its path ("" when
// none failed: no empty log to send a reader to).
func WriteFailureLog(dir string, specs []SpecRecord) (string, error) {
	text := FailureLog(specs)
	if text == "" {
		return "", nil
	}
	path := filepath.Join(dir, FailuresFile)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	return path, nil
}
