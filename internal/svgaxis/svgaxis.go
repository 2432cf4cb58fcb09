// Package svgaxis is the arithmetic behind the SVG plots the harness draws in Go: mapping values
// onto pixels, choosing round ticks and writing numbers for people. certify's report.html
// (conformance/report) and a game day's page (gameday/page) both draw with it, so the two pages
// tick and print numbers alike and a fix to one is a fix to both.
package svgaxis

import (
	"fmt"
	"math"
	"strconv"
)

// Axis maps data values Lo..Hi onto pixels From..To (To may be below From, as a y axis is).
type Axis struct{ Lo, Hi, From, To float64 }

// At is the pixel of v; an axis with no extent puts everything at From rather than dividing by
// zero.
func (a Axis) At(v float64) float64 {
	if a.Hi == a.Lo {
		return a.From
	}
	return a.From + (v-a.Lo)/(a.Hi-a.Lo)*(a.To-a.From)
}

// Ticks are about n round values (1, 2 or 5 times a power of ten apart) covering [lo, hi].
func Ticks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, v)
	}
	return out
}

// NiceMax is the upper end of an axis from 0 that holds v with 5% room above it, so the highest
// point is not drawn on the frame; an axis of nothing above 0 gets 1.
func NiceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	t := Ticks(0, v*1.05, 5)
	return math.Max(t[len(t)-1], v*1.05)
}

// Num writes v for a tick or a tooltip: whole numbers without a point, otherwise one decimal
// from 10 up and two below it.
func Num(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e9:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	default:
		return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) // 0.5, not 0.50
	}
}

// Clip shortens s to n runes, the last an ellipsis, so a long label does not run off its plot.
func Clip(s string, n int) string {
	if n < 1 {
		return ""
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
