package journal

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aruntime/arcert/chaos/scenario"
)

// WriteSummary writes summary.md, what a person reads first: the status, the verdict table, the
// faults, the abort, rollback and residue, the recovery against the declared time, and the
// totals per tenant and class. Times are seconds since the run began.
func WriteSummary(w io.Writer, j Journal) error {
	o := j.Outcome
	var b strings.Builder
	fmt.Fprintf(&b, "# Game day: %s — **%s**\n\n", j.Scenario.Name, strings.ToUpper(string(j.Status)))
	fmt.Fprintf(&b, "Scenario `%s` (sha256 %s), target `%s` (sha256 %s), harness %s, seed %d, started %s, %s.\n\n",
		j.Scenario.Name, short(j.Scenario.SHA256), j.Target.Name, short(j.Target.SHA256), j.Harness, j.Seed,
		j.Start.UTC().Format("2006-01-02 15:04:05 MST"), secs(span(j.Start, j.End)))
	if o.Error != "" {
		fmt.Fprintf(&b, "The harness failed: %s\n\n", cell(o.Error))
	}
	if o.ResidueLeft() {
		fmt.Fprintf(&b, "**%s**\n\n", cell(RolledBack(o)))
	}

	b.WriteString("## Verdicts\n\n| check | phase | result | samples | why |\n|---|---|---|---|---|\n")
	for _, c := range Checks(j) {
		samples := ""
		if c.Kind == KindExpectation {
			samples = fmt.Sprint(c.Samples)
		}
		fmt.Fprintf(&b, "| %s | %s | **%s** | %s | %s |\n", cell(c.Name), cell(c.Phase), c.Result.Verdict, samples, cell(c.Result.Message))
	}

	if len(o.Phases) > 0 {
		b.WriteString("\n## Phases\n\n| phase | from (s) | to (s) | requests | served |\n|---|---|---|---|---|\n")
		for _, p := range o.Phases {
			req, served := 0, 0
			for _, g := range p.Counts {
				req, served = req+g.Requests, served+g.Served
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %d |\n", cell(p.Name), at(j, p.Start), at(j, p.End), req, served)
		}
	}

	if len(o.Faults) > 0 {
		b.WriteString("\n## Faults\n\n| fault | kind | detail | on | from (s) | to (s) | error |\n|---|---|---|---|---|---|---|\n")
		for _, f := range o.Faults {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", cell(f.Name), f.Kind, cell(f.Detail), cell(On(f)), at(j, f.Start), at(j, f.End), cell(f.Error))
		}
	}

	writeAfter(&b, j)
	writeTotals(&b, o.Totals)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeAfter writes the abort, the rollback, the residue and the recovery: what the day did to
// put things back, and whether it held.
func writeAfter(b *strings.Builder, j Journal) {
	o := j.Outcome
	b.WriteString("\n## Abort, rollback and recovery\n\n")
	if a := o.Abort; a != nil {
		fmt.Fprintf(b, "- **Aborted** at %s s by rule `%s`: %s\n", at(j, a.At), a.Rule, cell(a.Reason))
	} else {
		b.WriteString("- No abort rule fired.\n")
	}
	if len(o.Rollback) == 0 {
		b.WriteString("- Rollback: nothing to undo.\n")
	}
	for _, r := range o.Rollback {
		state := "done"
		if r.Error != "" {
			state = "**failed**: " + cell(r.Error)
		}
		fmt.Fprintf(b, "- Rollback at %s s: %s, %s\n", at(j, r.At), cell(r.What), state)
	}
	fmt.Fprintf(b, "- Residue: **%s** %s\n", orNotRun(o.Residue.Verdict), cell(o.Residue.Message))
	fmt.Fprintf(b, "- Recovery: %s against %s declared: **%s**\n", secs(o.Recovery), secs(j.DeclaredRecovery), orNotRun(o.RecoveryResult.Verdict))
}

// writeTotals writes the counts per tenant and class, and the outcome mix behind them.
func writeTotals(b *strings.Builder, totals []scenario.GroupCounts) {
	if len(totals) == 0 {
		return
	}
	b.WriteString("\n## Totals\n\n| tenant | class | requests | served | share | indeterminate | hung | broken | TTFT p50/p90/p99 (ms) | outcomes |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, g := range totals {
		var mix []string
		for _, k := range slices.Sorted(maps.Keys(g.Outcomes)) {
			mix = append(mix, fmt.Sprintf("%s %d", k, g.Outcomes[k]))
		}
		fmt.Fprintf(b, "| %s | %s | %d | %d | %.1f%% | %d | %d | %d | %s/%s/%s | %s |\n", cell(g.Tenant), cell(g.Class),
			g.Requests, g.Served, 100*g.ServedShare(), g.Indeterminate, g.Hung, g.Broken, ms(g.P50TTFT), ms(g.P90TTFT), ms(g.P99TTFT), strings.Join(mix, ", "))
	}
}

func orNotRun(v scenario.Verdict) scenario.Verdict {
	if v == "" {
		return NotRun
	}
	return v
}

// at is t in seconds since the run began, empty when unset.
func at(j Journal, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprintf("%.1f", t.Sub(j.Start).Seconds())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Millisecond)) }

// short is the first 12 hex digits of a hash, enough to tell files apart in a sentence.
func short(sum string) string {
	if sum == "" {
		return "none"
	}
	return sum[:min(12, len(sum))]
}

// cell keeps text on one table row.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > 240 {
		s = string(r[:240]) + "…"
	}
	return s
}

// RolledBack says in a sentence what rollback left, from Outcome.Residue alone: a day's status
// names its abort or error first, and must never be read as a clean rollback when it was not.
func RolledBack(o scenario.Outcome) string {
	switch {
	case o.ResidueLeft():
		return "Rollback left residue, the target is not as it was: " + o.Residue.Message
	case o.Residue.OK():
		return "Everything was rolled back."
	}
	return "The residue was not checked."
}
