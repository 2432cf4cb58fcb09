// Package page draws a game day's report.html: one self-contained page (inline CSS and SVG, no
// script, a content security policy that forbids every fetch) with a status banner, the verdict
// table, and per tenant a timeline of outcome classes stacked per second with p50 and p99
// latency, fault windows shaded and labelled, the steady-state probes and the abort and rollback
// marks. It reads the journal and streams the ledger once, so `arcert gameday report DIR` can
// rebuild the page from what a day left on disk.
package page

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/gameday/journal"
)

// File is the page's name in the output directory.
const File = "report.html"

//go:embed page.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("page").Parse(pageTemplate))

// banners say in a sentence what each status means to the people who ran the day.
var banners = map[scenario.Status]string{
	scenario.StatusCompleted: "Completed: the runtime behaved as hypothesised and recovered in time.",
	scenario.StatusDeviated:  "Deviated: the day ran to the end, but the runtime did not behave as hypothesised.",
	scenario.StatusAborted:   "Aborted: an abort rule stopped the day early.",
	scenario.StatusInvalid:   "Invalid: the day could not be judged.",
	scenario.StatusErrored:   "Errored: the harness itself failed.",
}

type view struct {
	J                     journal.Journal
	Title, Banner, Status string
	Started, Took         string
	// The residue and recovery verdicts, NOT_RUN when the run never reached them.
	ResidueVerdict, ResidueClass   string
	RecoveryVerdict, RecoveryClass string
	Recovery, DeclaredRecovery     string
	Checks                         []checkView
	Legend                         []legendView
	Panels                         []template.HTML
	Faults                         []faultView
	Rollback                       []rollbackView
	Totals                         []totalView
	Entries, Dropped               int
}

type checkView struct{ Name, Phase, Verdict, Class, Message, Samples string }
type legendView struct{ Name, Colour string }
type faultView struct{ Name, Kind, Detail, On, From, To, Error string }
type rollbackView struct{ What, At, Error string }
type totalView struct {
	Tenant, Class, Share, TTFT, Outcomes string
	Requests, Served, Indeterminate      int
}

// Write writes DIR/report.html for j, reading the ledger at ledgerPath once.
func Write(dir string, j journal.Journal, ledgerPath string) error {
	s, err := Aggregate(j.Start, j.End, ledgerPath)
	if err != nil {
		return fmt.Errorf("page: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, build(j, s)); err != nil {
		return fmt.Errorf("page: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("page: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, File), buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("page: %w", err)
	}
	return nil
}

// build derives what the template shows from the journal and the series.
func build(j journal.Journal, s Series) view {
	o := j.Outcome
	v := view{
		J: j, Title: "Game day: " + j.Scenario.Name, Banner: banners[j.Status], Status: string(j.Status),
		Started: j.Start.UTC().Format("2006-01-02 15:04:05 MST"), Took: secs(j.End.Sub(j.Start)), Entries: s.Entries, Dropped: s.Dropped,
	}
	v.ResidueVerdict, v.ResidueClass = string(orNotRun(o.Residue.Verdict)), verdictClass(o.Residue.Verdict)
	v.RecoveryVerdict, v.RecoveryClass = string(orNotRun(o.RecoveryResult.Verdict)), verdictClass(o.RecoveryResult.Verdict)
	v.Recovery, v.DeclaredRecovery = secs(o.Recovery), secs(j.DeclaredRecovery)
	if v.Banner == "" {
		v.Banner = "Status " + string(j.Status) + "."
	}
	// Whether rollback was clean is read from the residue check alone, whatever the status.
	v.Banner += " " + journal.RolledBack(o)
	for _, c := range journal.Checks(j) {
		cv := checkView{Name: c.Name, Phase: c.Phase, Verdict: string(c.Result.Verdict), Class: verdictClass(c.Result.Verdict), Message: c.Result.Message}
		if c.Kind == journal.KindExpectation {
			cv.Samples = fmt.Sprint(c.Samples)
		}
		v.Checks = append(v.Checks, cv)
	}
	for i, c := range Classes {
		v.Legend = append(v.Legend, legendView{c, classColours[i]})
	}
	lo, hi := xRange(j, s)
	for _, ts := range withTotals(s.Tenants, o.Totals) {
		v.Panels = append(v.Panels, template.HTML(panelSVG(j, ts, lo, hi))) // #nosec G203 -- built in svg.go, every text escaped
	}
	off := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return fmt.Sprintf("%.1f", t.Sub(j.Start).Seconds())
	}
	for _, f := range o.Faults {
		v.Faults = append(v.Faults, faultView{f.Name, f.Kind, f.Detail, journal.On(f), off(f.Start), off(f.End), f.Error})
	}
	for _, r := range o.Rollback {
		v.Rollback = append(v.Rollback, rollbackView{r.What, off(r.At), r.Error})
	}
	for _, g := range o.Totals {
		var mix []string
		for _, k := range slices.Sorted(maps.Keys(g.Outcomes)) {
			mix = append(mix, fmt.Sprintf("%s %d", k, g.Outcomes[k]))
		}
		v.Totals = append(v.Totals, totalView{Tenant: g.Tenant, Class: g.Class, Share: fmt.Sprintf("%.1f%%", 100*g.ServedShare()),
			TTFT:     fmt.Sprintf("%.0f / %.0f / %.0f", ms(g.P50TTFT), ms(g.P90TTFT), ms(g.P99TTFT)),
			Outcomes: strings.Join(mix, ", "), Requests: g.Requests, Served: g.Served, Indeterminate: g.Indeterminate})
	}
	return v
}

// withTotals adds an empty series for a tenant the totals name but the ledger never saw, so a
// tenant whose requests all went missing still has its (empty) panel.
func withTotals(series []TenantSeries, totals []scenario.GroupCounts) []TenantSeries {
	out := slices.Clone(series)
	for _, g := range totals {
		if !slices.ContainsFunc(out, func(ts TenantSeries) bool { return ts.Tenant == g.Tenant }) {
			out = append(out, TenantSeries{Tenant: g.Tenant})
		}
	}
	slices.SortStableFunc(out, func(a, b TenantSeries) int { return strings.Compare(a.Tenant, b.Tenant) })
	return out
}

func orNotRun(v scenario.Verdict) scenario.Verdict {
	if v == "" {
		return journal.NotRun
	}
	return v
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
