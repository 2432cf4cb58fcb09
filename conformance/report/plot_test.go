package report

import (
	"strings"
	"testing"
	"time"
)

// TestInFlight: the step series counts the spans open at each instant; an end and a start at
// the same instant are a slot freed and retaken, not two at once.
func TestInFlight(t *testing.T) {
	t0 := time.Unix(100, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	s := InFlight("x", t0, []Span{{at(0), at(100)}, {at(50), at(200)}, {at(100), at(150)}})
	want := []Point{{0, 1}, {0.05, 2}, {0.1, 2}, {0.15, 1}, {0.2, 0}}
	if len(s.Points) != len(want) {
		t.Fatalf("points %v, want %v", s.Points, want)
	}
	for i := range want {
		if s.Points[i] != want[i] {
			t.Fatalf("points %v, want %v", s.Points, want)
		}
	}
}

// TestPlotSVGEscapes: names from a target file or a spec reach the page as text, never markup.
func TestPlotSVGEscapes(t *testing.T) {
	svg := string(PlotSVG(Plot{Kind: Series, Title: "<script>x</script>", Series: []PlotSeries{{Name: "a&b", Points: []Point{{1, 2}}}},
		Marks: []Mark{{Name: `"q"`, Value: 3}}, Bands: []Band{{Name: "<b>", From: 0, To: 1}}}))
	for _, bad := range []string{"<script>", "a&b", `"q"`, "<b>"} {
		if strings.Contains(svg, bad) {
			t.Errorf("svg holds %q unescaped", bad)
		}
	}
	if !strings.Contains(svg, "&lt;script&gt;") {
		t.Error("title missing")
	}
}
