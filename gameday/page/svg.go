package page

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"

	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/gameday/journal"
	"github.com/aruntime/arcert/internal/svgaxis"
)

// A tenant's timeline is one SVG: its requests per second stacked by outcome class (left svgaxis.Axis),
// their p50 and p99 latency (right svgaxis.Axis), the fault windows shaded and labelled above, the phases,
// the steady-state probes under the time svgaxis.Axis, and the abort and rollback marks. The elements a
// test or a reader's tooling looks for carry data attributes: data-series on the panel (the
// tenant), data-fault on each shaded window, data-latency on each line, data-mark on the marks.

const (
	panelW, panelPlotH = 1040, 220
	panelPadL          = 56
	panelPadR          = 62
	panelPadB          = 44
	faultRowH          = 13
	maxFaultRows       = 3
)

// classColours are the Classes' colours (Okabe–Ito, told apart with the common colour
// blindnesses): served in greens and blues, refusals in yellow and orange, failures in pink
// and vermillion, the indeterminate in purple.
var classColours = [len(Classes)]string{"#009E73", "#56B4E9", "#0072B2", "#F0E442", "#E69F00", "#CC79A7", "#D55E00", "#6A3D9A", "#8C959F"}

// xRange is the seconds the panels span: from the run's start (or the first request, if
// earlier) to its end (or the last request's second, if later).
func xRange(j journal.Journal, s Series) (lo, hi float64) {
	lo, hi = 0, j.End.Sub(j.Start).Seconds()
	for _, ts := range s.Tenants {
		lo = math.Min(lo, float64(ts.From))
		hi = math.Max(hi, float64(ts.From+len(ts.Seconds)))
	}
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi
}

// panelSVG draws one tenant's timeline over seconds lo..hi since the run began.
func panelSVG(j journal.Journal, ts TenantSeries, lo, hi float64) string {
	o := j.Outcome
	rows := min(len(o.Faults), maxFaultRows)
	top := 26 + rows*faultRowH + 6
	bottom := top + panelPlotH
	x := svgaxis.Axis{Lo: lo, Hi: hi, From: panelPadL, To: panelW - panelPadR}
	peak, slow := 0.0, 0.0
	for _, s := range ts.Seconds {
		peak, slow = math.Max(peak, float64(s.N)), math.Max(slow, ms(s.P99))
	}
	y := svgaxis.Axis{Lo: 0, Hi: svgaxis.NiceMax(peak), From: float64(bottom), To: float64(top)}
	yl := svgaxis.Axis{Lo: 0, Hi: svgaxis.NiceMax(slow), From: float64(bottom), To: float64(top)}
	sec := func(t time.Time) float64 { return t.Sub(j.Start).Seconds() }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" data-series="%s" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		esc(ts.Tenant), panelW, bottom+panelPadB, esc("timeline of tenant "+ts.Tenant))
	fmt.Fprintf(&b, `<text x="4" y="16" class="title">tenant %s</text>`, esc(ts.Tenant))
	for _, t := range svgaxis.Ticks(y.Lo, y.Hi, 5) {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`,
			panelPadL, panelW-panelPadR, y.At(t), y.At(t), panelPadL-6, y.At(t)+4, svgaxis.Num(t))
	}
	for _, t := range svgaxis.Ticks(yl.Lo, yl.Hi, 5) {
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" class="tick">%s</text>`, panelW-panelPadR+6, yl.At(t)+4, svgaxis.Num(t))
	}
	fmt.Fprintf(&b, `<text transform="translate(14 %d) rotate(-90)" class="label" text-anchor="middle">requests/s by outcome</text>`, (top+bottom)/2)
	fmt.Fprintf(&b, `<text transform="translate(%d %d) rotate(90)" class="label" text-anchor="middle">latency (ms)</text>`, panelW-8, (top+bottom)/2)

	for i, f := range o.Faults {
		end := f.End
		if end.IsZero() {
			end = j.End
		}
		fx, fw := x.At(sec(f.Start)), math.Max(2, x.At(sec(end))-x.At(sec(f.Start)))
		label := fmt.Sprintf("%s · %s · %s", f.Name, f.Kind, journal.On(f))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" class="fault" data-fault="%s"><title>%s: %.1f–%.1f s%s</title></rect>`,
			fx, top, fw, panelPlotH, esc(f.Name), esc(label+" "+f.Detail), sec(f.Start), sec(end), esc(errNote(f.Error)))
		ly := 26 + (i%maxFaultRows)*faultRowH + 8
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="faultspan"/><text x="%.1f" y="%d" class="faultlabel">%s</text>`,
			fx, fx+fw, ly+2, ly+2, fx+2, ly, esc(svgaxis.Clip(label, 60)))
	}
	drawBars(&b, ts, x, y)
	for _, p := range o.Phases { // over the bars, so a phase's name is never hidden
		px := x.At(sec(p.Start))
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="phase"/><text x="%.1f" y="%d" class="phaselabel halo">%s</text>`,
			px, px, top, bottom, px+3, top+11, esc(p.Name))
	}
	drawLatency(&b, ts, x, yl)
	for _, t := range svgaxis.Ticks(x.Lo, x.Hi, 10) {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="axis"/><text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>`,
			x.At(t), x.At(t), bottom, bottom+4, x.At(t), bottom+28, svgaxis.Num(t))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" class="axis"/>`, panelPadL, panelW-panelPadR, bottom, bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="label" text-anchor="middle">s since the run began</text>`, (panelPadL+panelW-panelPadR)/2, bottom+40)
	for _, p := range []struct {
		name string
		rec  scenario.SteadyRecord
	}{{"before", o.SteadyBefore}, {"after", o.SteadyAfter}} {
		if p.rec.Start.IsZero() {
			continue
		}
		px, pw := x.At(sec(p.rec.Start)), math.Max(3, x.At(sec(p.rec.End))-x.At(sec(p.rec.Start)))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="6" rx="2" class="probe %s" data-probe="%s"><title>steady state %s: %s %s</title></rect>`,
			px, bottom+7, pw, verdictClass(p.rec.Result.Verdict), p.name, p.name, p.rec.Result.Verdict, esc(p.rec.Result.Message))
	}
	if a := o.Abort; a != nil {
		drawMark(&b, "abort", x.At(sec(a.At)), top, bottom, "abort: "+a.Rule, "end", a.Reason)
	}
	if len(o.Rollback) > 0 {
		what := make([]string, len(o.Rollback))
		for i, r := range o.Rollback {
			what[i] = r.What + errNote(r.Error)
		}
		drawMark(&b, "rollback", x.At(sec(o.Rollback[0].At)), top, bottom, "rollback", "start", strings.Join(what, "; "))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// drawBars stacks each second's outcome classes, with the second's counts and latencies as its
// tooltip.
func drawBars(b *strings.Builder, ts TenantSeries, x, y svgaxis.Axis) {
	for i, s := range ts.Seconds {
		if s.N == 0 {
			continue
		}
		at := float64(ts.From + i)
		bx, bw := x.At(at), math.Max(1, x.At(at+1)-x.At(at)-1)
		var tip []string
		for c, n := range s.Counts {
			if n > 0 {
				tip = append(tip, fmt.Sprintf("%s %d", Classes[c], n))
			}
		}
		fmt.Fprintf(b, `<g class="bar"><title>%s s: %s; p50 %s ms, p99 %s ms</title>`, svgaxis.Num(at), strings.Join(tip, ", "), svgaxis.Num(ms(s.P50)), svgaxis.Num(ms(s.P99)))
		stacked := 0
		for c, n := range s.Counts {
			if n == 0 {
				continue
			}
			y0, y1 := y.At(float64(stacked)), y.At(float64(stacked+n))
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, bx, y1, bw, y0-y1, classColours[c])
			stacked += n
		}
		b.WriteString(`</g>`)
	}
}

// drawLatency draws the p50 and p99 lines over the seconds that had requests, broken where a
// second had none.
func drawLatency(b *strings.Builder, ts TenantSeries, x, y svgaxis.Axis) {
	for _, q := range []struct {
		name string
		of   func(Second) time.Duration
	}{{"p50", func(s Second) time.Duration { return s.P50 }}, {"p99", func(s Second) time.Duration { return s.P99 }}} {
		var d strings.Builder
		pen := "M"
		for i, s := range ts.Seconds {
			if s.N == 0 {
				pen = "M"
				continue
			}
			fmt.Fprintf(&d, "%s%.1f %.1f", pen, x.At(float64(ts.From+i)+0.5), y.At(ms(q.of(s))))
			pen = "L"
		}
		if d.Len() > 0 {
			fmt.Fprintf(b, `<path d="%s" class="lat %s" data-latency="%s"><title>%s latency (ms)</title></path>`, d.String(), q.name, q.name, q.name)
		}
	}
}

// drawMark draws a vertical mark across the plot, labelled at its top on the side anchor says.
func drawMark(b *strings.Builder, kind string, px float64, top, bottom int, label, anchor, tip string) {
	dx := -3.0
	if anchor == "start" {
		dx = 3
	}
	fmt.Fprintf(b, `<g data-mark="%s"><title>%s</title><line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="mark %s"/><text x="%.1f" y="%d" class="marklabel halo %s" text-anchor="%s">%s</text></g>`,
		kind, esc(label+": "+tip), px, px, top-4, bottom, kind, px+dx, top+10, kind, anchor, esc(label))
}

func esc(s string) string { return html.EscapeString(s) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func errNote(err string) string {
	if err == "" {
		return ""
	}
	return " (error: " + err + ")"
}

// verdictClass is the CSS class of a verdict's badge.
func verdictClass(v scenario.Verdict) string {
	if v == "" {
		v = journal.NotRun
	}
	return strings.ToLower(string(v))
}
