package ledger

import (
	"fmt"
	"strings"
)

// Problem is one entry that broke a rule, in plain words.
type Problem struct {
	Seq    int    `json:"seq"`
	Detail string `json:"detail"`
}

// String renders the problem for a report.
func (p Problem) String() string { return fmt.Sprintf("request #%d: %s", p.Seq, p.Detail) }

// OneTerminalOutcome checks that every determinate entry states exactly one outcome class of the
// contract, with no contract violations. Indeterminate entries are Reconcile's to judge.
func OneTerminalOutcome(entries []Entry) []Problem {
	var out []Problem
	for _, e := range entries {
		switch {
		case e.Indeterminate:
			continue
		case e.Outcome == "":
			out = append(out, Problem{e.Seq, "no outcome stated"})
		case !e.Outcome.Valid():
			out = append(out, Problem{e.Seq, fmt.Sprintf("outcome %q is not a class of the contract", e.Outcome)})
		case len(e.Violations) > 0:
			out = append(out, Problem{e.Seq, fmt.Sprintf("outcome %s/%s with contract violations: %s", e.Outcome, e.Reason, strings.Join(e.Violations, "; "))})
		}
	}
	return out
}

// NoneHung checks that every entry ended in time (inTime says what that means: within its
// deadline plus a grace): a refusal must come in time, whatever is down.
func NoneHung(entries []Entry, inTime func(Entry) bool) []Problem {
	var out []Problem
	for _, e := range entries {
		if inTime(e) {
			continue
		}
		out = append(out, Problem{e.Seq, fmt.Sprintf("took %s against a deadline of %s (%s/%s)", e.Latency().Round(1e6), e.Deadline, e.Outcome, e.Reason)})
	}
	return out
}

// Resolution is how an indeterminate entry was resolved against the runtime's evidence.
type Resolution string

// Resolutions of Reconcile.
const (
	// Recovered: the runtime holds exactly one terminal record of the request.
	Recovered Resolution = "recovered"
	// Lost: the runtime holds no record of a request it may have accepted.
	Lost Resolution = "lost"
	// Duplicated: the runtime holds more than one record of the request.
	Duplicated Resolution = "duplicated"
	// Unresolvable: no request id arrived, so nothing can be looked up; the runtime never
	// answered at all, which the contract does not allow for a request it received.
	Unresolvable Resolution = "unresolvable"
)

// Resolved is an indeterminate entry with its resolution.
type Resolved struct {
	Entry      Entry      `json:"entry"`
	Resolution Resolution `json:"resolution"`
	Records    int        `json:"records"`
}

// Reconcile resolves every indeterminate entry after healing: records(id) counts the runtime's
// evidence records of a request id (its durable state). A determinate entry is not looked up.
func Reconcile(entries []Entry, records func(requestID string) int) []Resolved {
	var out []Resolved
	for _, e := range entries {
		if !e.Indeterminate {
			continue
		}
		if e.RequestID == "" {
			out = append(out, Resolved{Entry: e, Resolution: Unresolvable})
			continue
		}
		n := records(e.RequestID)
		r := Recovered
		switch {
		case n == 0:
			r = Lost
		case n > 1:
			r = Duplicated
		}
		out = append(out, Resolved{Entry: e, Resolution: r, Records: n})
	}
	return out
}

// Counts tallies entries by outcome class and reason, for reports.
func Counts(entries []Entry) map[string]int {
	out := map[string]int{}
	for _, e := range entries {
		k := string(e.Outcome) + "/" + string(e.Reason)
		if e.Indeterminate {
			k = "indeterminate"
		}
		out[k]++
	}
	return out
}
