package svgaxis

import (
	"slices"
	"testing"
)

func TestAxisAt(t *testing.T) {
	y := Axis{Lo: 0, Hi: 100, From: 250, To: 50} // a y axis: larger values higher up
	for v, want := range map[float64]float64{0: 250, 50: 150, 100: 50} {
		if got := y.At(v); got != want {
			t.Errorf("At(%v) = %v, want %v", v, got, want)
		}
	}
	if got := (Axis{Lo: 3, Hi: 3, From: 10, To: 90}).At(7); got != 10 {
		t.Errorf("an axis with no extent put 7 at %v, want its start 10", got)
	}
}

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		n      int
		want   []float64
	}{
		{0, 10, 5, []float64{0, 2, 4, 6, 8, 10}},
		{0, 1, 5, []float64{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}},
		{3, 97, 8, []float64{20, 40, 60, 80}},
		{5, 5, 4, []float64{5}},
	} {
		if got := Ticks(c.lo, c.hi, c.n); !slices.Equal(got, c.want) {
			t.Errorf("Ticks(%v, %v, %d) = %v, want %v", c.lo, c.hi, c.n, got, c.want)
		}
	}
}

func TestNiceMax(t *testing.T) {
	for v, want := range map[float64]float64{-1: 1, 0: 1, 100: 105, 40: 42} {
		if got := NiceMax(v); got != want {
			t.Errorf("NiceMax(%v) = %v, want %v", v, got, want)
		}
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 12: "12", -3: "-3", 12.345: "12.3", 0.5: "0.5", 1.234: "1.23", 2e9 + 0.5: "2000000000.5"} {
		if got := Num(v); got != want {
			t.Errorf("Num(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{{"short", 10, "short"}, {"exactly", 7, "exactly"}, {"fault · kill · worker", 8, "fault ·…"}, {"any", 0, ""}} {
		if got := Clip(c.s, c.n); got != c.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
