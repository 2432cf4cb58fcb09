package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strings"
)

// report.html is one self-contained page: inline CSS and SVG, no script, and a content security
// policy that forbids every fetch, so what a browser shows is what the file holds.

//go:embed report.html.tmpl
var htmlTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"lower": func(r Result) string { return strings.ToLower(string(r)) },
	"plot":  PlotSVG,
	"secs":  func(s float64) string { return fmt.Sprintf("%.1f s", s) },
}).Parse(htmlTemplate))

// htmlView is what the template reads: the report and what is derived from it for people.
type htmlView struct {
	*Report
	Title    string
	Started  string
	Timeline template.HTML
	Counts   []countView
	Reqs     []reqView
}

type countView struct {
	Result Result
	N      int
}

type reqView struct {
	Requirement
	Judged   string
	Samples  []countLine
	Unprobed []countLine
	Timeline template.HTML
	// Open unfolds what a reader comes for: a result that is not a PASS, or one with figures.
	Open bool
}

type countLine struct{ Path, Text string }

// WriteHTML writes report.html.
func WriteHTML(w io.Writer, r *Report) error {
	v := htmlView{
		Report: r, Title: "arcert certification: " + r.Implementation,
		Started:  r.Started.Format("2006-01-02 15:04:05 MST"),
		Timeline: FaultTimelineSVG(r, r.Requirements),
	}
	for _, res := range []Result{Pass, Fail, Invalid, Inconclusive, NotSupported, NotRun} {
		if n := r.Counts[res]; n > 0 {
			v.Counts = append(v.Counts, countView{res, n})
		}
	}
	for _, q := range r.Requirements {
		rv := reqView{Requirement: q, Timeline: FaultTimelineSVG(r, []Requirement{q}),
			Open: q.Result == Fail || q.Result == Invalid || q.Result == Inconclusive || len(q.Plots) > 0 || len(q.Faults) > 0}
		if s := q.SamplesJudged(); s != q.Note {
			rv.Judged = s
		}
		for _, p := range slices.Sorted(maps.Keys(q.Samples)) {
			rv.Samples = append(rv.Samples, countLine{p, fmt.Sprint(q.Samples[p])})
		}
		for _, p := range slices.Sorted(maps.Keys(q.Unprobed)) {
			rv.Unprobed = append(rv.Unprobed, countLine{p, q.Unprobed[p]})
		}
		v.Reqs = append(v.Reqs, rv)
	}
	return page.Execute(w, v)
}
