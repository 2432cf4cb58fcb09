package page

import (
	"fmt"
	"html"
	"math"
	"strconv"
)

// The axis helpers follow conformance/report's svg.go (same ticks, same number format), so a
// game day's page reads like certify's.

func esc(s string) string { return html.EscapeString(s) }

// axis maps data values onto pixels.
type axis struct{ lo, hi, from, to float64 }

func (a axis) at(v float64) float64 {
	if a.hi == a.lo {
		return a.from
	}
	return a.from + (v-a.lo)/(a.hi-a.lo)*(a.to-a.from)
}

// ticks are about n round values covering [lo, hi].
func ticks(lo, hi float64, n int) []float64 {
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

// niceMax is a round upper end for an axis that holds v.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	t := ticks(0, v*1.05, 5)
	return math.Max(t[len(t)-1], v*1.05)
}

func num(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e9:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	default:
		return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	}
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
