package suites

import (
	"time"

	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/report"
)

// plotRounds draws TEN-3's rounds: each probe's TTFT by round, so a leak shows as B's probe of
// A's prompt sitting with B's cached repeat rather than with B's uncached ones.
func plotRounds(rounds []round) {
	names := []string{"B's cached repeat (control)", "B's probe of A's prompt", "B's base", "B's null"}
	series := make([]report.PlotSeries, len(names))
	for i, n := range names {
		series[i].Name = n
	}
	for i, rd := range rounds {
		for j, v := range []float64{rd.cached, rd.cross, rd.base, rd.null} {
			series[j].Points = append(series[j].Points, report.Point{X: float64(i + 1), Y: v * 1000})
		}
	}
	plot(report.Plot{Kind: report.Series, Title: "TTFT of each round's probes", X: "round", Y: "TTFT (ms)", Series: series})
}

// runOrigin is when a load run's first request was scheduled: its plots count seconds from it.
func runOrigin(entries []chaosledger.Entry) time.Time {
	var first time.Time
	for _, e := range entries {
		if first.IsZero() || e.Scheduled.Before(first) {
			first = e.Scheduled
		}
	}
	return first
}

// plotInFlight draws a class's admitted work in flight over the overload run against its bound.
func plotInFlight(class string, origin time.Time, admitted []chaosledger.Entry, bound int) {
	spans := make([]report.Span, 0, len(admitted))
	for _, e := range admitted {
		spans = append(spans, report.Span{Start: e.Start, End: e.End})
	}
	plot(report.Plot{Kind: report.Series, Title: class + ": admitted work in flight during the overload", X: "s since the overload began", Y: "requests in flight",
		Series: []report.PlotSeries{report.InFlight("admitted in flight", origin, spans)}, Marks: []report.Mark{{Name: "declared bound", Value: float64(bound)}}})
}

// plotShed draws how long each shed request of a class waited for its answer, over the run.
func plotShed(class string, origin time.Time, shed []chaosledger.Entry, bound time.Duration) {
	s := report.PlotSeries{Name: "shed"}
	for _, e := range shed {
		s.Points = append(s.Points, report.Point{X: e.Start.Sub(origin).Seconds(), Y: report.Millis(e.Latency())})
	}
	plot(report.Plot{Kind: report.Series, Title: class + ": time to shed during the overload", X: "s since the overload began", Y: "time to shed (ms)",
		Series: []report.PlotSeries{s}, Marks: []report.Mark{{Name: "p99 bound", Value: report.Millis(bound)}}})
}

// ttftOf is one class's TTFTs and its objective, for plotTTFT.
type ttftOf struct {
	class     string
	ttfts     []time.Duration
	objective time.Duration
}

// plotTTFT draws the TTFT distributions of classes against their objectives.
func plotTTFT(title string, classes ...ttftOf) {
	p := report.Plot{Kind: report.Distribution, Title: title, X: "time to first token (ms)"}
	for _, c := range classes {
		p.Series = append(p.Series, report.PlotSeries{Name: c.class, Values: report.MillisOf(c.ttfts)})
		p.Marks = append(p.Marks, report.Mark{Name: c.class + " objective", Value: report.Millis(c.objective)})
	}
	plot(p)
}

// plotFaultRun draws a fault run: each request at the time it was sent, by how long it took and
// how it ended, with the fault's window shaded, so what the fault did is seen at a glance.
func plotFaultRun(name string, entries []chaosledger.Entry, window chaosledger.Window) {
	if len(entries) == 0 {
		return
	}
	origin := entries[0].Start
	for _, e := range entries {
		if e.Start.Before(origin) {
			origin = e.Start
		}
	}
	byOutcome := map[string]*report.PlotSeries{}
	var order []string
	for _, e := range entries {
		label := string(e.Outcome) + "/" + string(e.Reason)
		if e.Outcome == "" {
			label = "no outcome"
		}
		s, ok := byOutcome[label]
		if !ok {
			s = &report.PlotSeries{Name: label}
			byOutcome[label] = s
			order = append(order, label)
		}
		s.Points = append(s.Points, report.Point{X: e.Start.Sub(origin).Seconds(), Y: report.Millis(e.Latency())})
	}
	p := report.Plot{Kind: report.Series, Title: name + ": each request by when it was sent and how it ended", X: "s since the run began", Y: "latency (ms)",
		Bands: []report.Band{{Name: "fault", From: window.Start.Sub(origin).Seconds(), To: window.End.Sub(origin).Seconds()}}}
	for _, label := range order {
		p.Series = append(p.Series, *byOutcome[label])
	}
	plot(p)
}
