package report

import (
	"time"

	"github.com/aruntime/arcert/conformance/checks"
)

// PlotKind is how report.html draws a Plot.
type PlotKind string

// The kinds of plot report.html draws.
const (
	// Series draws each series' points over X (time, or a round number), joined by steps when the
	// series says so: in-flight work over time, shed latency over time, each round's probes.
	Series PlotKind = "series"
	// Distribution draws each series' values as an empirical cumulative distribution, with the
	// marks as vertical lines: TTFTs against their objectives.
	Distribution PlotKind = "distribution"
)

// Plot is a figure a spec recorded for report.html. It holds the numbers, not a picture, so
// report.json keeps them and the page draws them.
type Plot struct {
	Kind  PlotKind `json:"kind"`
	Title string   `json:"title"`
	// X and Y name the axes with their units ("s since the run began", "ms").
	X      string       `json:"x"`
	Y      string       `json:"y"`
	Series []PlotSeries `json:"series"`
	// Marks are reference values (a bound, an objective): horizontal lines on a Series plot,
	// vertical ones on a Distribution.
	Marks []Mark `json:"marks,omitempty"`
	// Bands are named stretches of X (a fault window), shaded on a Series plot.
	Bands []Band `json:"bands,omitempty"`
}

// Band is a named stretch of a plot's X axis.
type Band struct {
	Name string  `json:"name"`
	From float64 `json:"from"`
	To   float64 `json:"to"`
}

// PlotSeries is one named set of points (Series plots) or values (Distribution plots).
type PlotSeries struct {
	Name   string    `json:"name"`
	Points []Point   `json:"points,omitempty"`
	Values []float64 `json:"values,omitempty"`
	// Steps joins the points as a step function (a count that holds until the next point).
	Steps bool `json:"steps,omitempty"`
}

// Point is one point of a series.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Mark is a named reference value.
type Mark struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Span is one piece of work from its start to its end.
type Span struct{ Start, End time.Time }

// InFlight is the step series of how many spans were open over time, in seconds from origin:
// the in-flight count a bound is judged on, as a reader wants to see it.
func InFlight(name string, origin time.Time, spans []Span) PlotSeries {
	iv := make([]checks.Interval, len(spans))
	for i, sp := range spans {
		iv[i] = checks.Interval{Start: sp.Start, End: sp.End}
	}
	out := PlotSeries{Name: name, Steps: true, Points: []Point{{X: 0, Y: 0}}}
	for _, c := range checks.InFlight(iv) {
		p := Point{X: c.At.Sub(origin).Seconds(), Y: float64(c.N)}
		if last := &out.Points[len(out.Points)-1]; last.X == p.X {
			last.Y = p.Y
			continue
		}
		out.Points = append(out.Points, p)
	}
	return out
}

// Millis is d in milliseconds, the unit plots of latency use.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MillisOf is ds in milliseconds.
func MillisOf(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = Millis(d)
	}
	return out
}
