package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The plots are SVG drawn here, inline in report.html: the page fetches nothing and needs no
// script, so it opens the same from a CI artefact, an e-mail or a disk years later.

const (
	plotW, plotH                = 680, 300
	padL, padR, padT, padB      = 64, 16, 30, 44
	timelineLabel, timelineRowH = 230, 20
	timelineW                   = 680
	maxPointsDrawn              = 4000
)

// palette is told apart by people with the common colour blindnesses (Okabe–Ito).
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"}

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

func num(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e9:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	default:
		return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) // 0.5, not 0.50
	}
}

// frame draws the axes, their ticks and labels, and the title.
func frame(b *strings.Builder, title, xLabel, yLabel string, x, y axis, legendH int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 %d %d" role="img" aria-label="%s">`, plotW, plotH+legendH, esc(title))
	fmt.Fprintf(b, `<text x="%d" y="16" class="title">%s</text>`, padL, esc(title))
	for _, t := range ticks(y.lo, y.hi, 5) {
		py := y.at(t)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`,
			padL, plotW-padR, py, py, padL-6, py+4, num(t))
	}
	for _, t := range ticks(x.lo, x.hi, 8) {
		px := x.at(t)
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="axis"/><text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>`,
			px, px, plotH-padB, plotH-padB+4, px, plotH-padB+16, num(t))
	}
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" class="axis"/>`, padL, plotW-padR, plotH-padB, plotH-padB)
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" class="axis"/>`, padL, padL, padT, plotH-padB)
	fmt.Fprintf(b, `<text x="%d" y="%d" class="label" text-anchor="middle">%s</text>`, (padL+plotW-padR)/2, plotH-8, esc(xLabel))
	fmt.Fprintf(b, `<text transform="translate(14 %d) rotate(-90)" class="label" text-anchor="middle">%s</text>`, (padT+plotH-padB)/2, esc(yLabel))
}

// legendItem is one entry of a legend: a series (a swatch) or a mark (a dashed line).
type legendItem struct {
	label, colour string
	mark          bool
	x, y          float64
}

// layoutLegend places the legend under the plot, left to right, wrapping to as many rows as it
// needs, and returns the height it takes.
func layoutLegend(names []string, marks []Mark) ([]legendItem, int) {
	var items []legendItem
	x, row := float64(padL), 0
	add := func(label, colour string, mark bool) {
		w := float64(len([]rune(label)))*6.2 + 30
		if x+w > plotW-padR && x > padL {
			x, row = padL, row+1
		}
		items = append(items, legendItem{label: label, colour: colour, mark: mark, x: x, y: float64(plotH + 8 + row*16)})
		x += w
	}
	for i, n := range names {
		add(n, palette[i%len(palette)], false)
	}
	for _, m := range marks {
		add(m.Name+" "+num(m.Value), "", true)
	}
	if len(items) == 0 {
		return nil, 0
	}
	return items, (row+1)*16 + 8
}

func drawLegend(b *strings.Builder, items []legendItem) {
	for _, it := range items {
		if it.mark {
			fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="mark"/>`, it.x, it.x+14, it.y-4, it.y-4)
		} else {
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>`, it.x+2, it.y-9, it.colour)
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" class="tick">%s</text>`, it.x+18, it.y, esc(it.label))
	}
}

// PlotSVG draws one plot.
func PlotSVG(p Plot) template.HTML {
	if p.Kind == Distribution {
		return distributionSVG(p)
	}
	return seriesSVG(p)
}

func seriesSVG(p Plot) template.HTML {
	xlo, xhi, yhi := math.Inf(1), math.Inf(-1), 0.0
	for _, s := range p.Series {
		for _, pt := range s.Points {
			xlo, xhi, yhi = math.Min(xlo, pt.X), math.Max(xhi, pt.X), math.Max(yhi, pt.Y)
		}
	}
	for _, m := range p.Marks {
		yhi = math.Max(yhi, m.Value)
	}
	for _, band := range p.Bands {
		xlo, xhi = math.Min(xlo, band.From), math.Max(xhi, band.To)
	}
	if math.IsInf(xlo, 0) {
		xlo, xhi = 0, 1
	}
	xlo = math.Min(xlo, 0) // time and rounds count from the start
	x := axis{xlo, xhi, padL, plotW - padR}
	y := axis{0, niceMax(yhi), plotH - padB, padT}
	names := make([]string, len(p.Series))
	for i, ser := range p.Series {
		names[i] = ser.Name
	}
	legend, legendH := layoutLegend(names, p.Marks)
	var b strings.Builder
	frame(&b, p.Title, p.X, p.Y, x, y, legendH)
	for _, band := range p.Bands {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" class="band"><title>%s: %s–%s</title></rect><text x="%.1f" y="%d" class="tick">%s</text>`,
			x.at(band.From), padT, math.Max(1, x.at(band.To)-x.at(band.From)), plotH-padB-padT, esc(band.Name), num(band.From), num(band.To), x.at(band.From)+3, padT+12, esc(band.Name))
	}
	for _, m := range p.Marks {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="mark"><title>%s</title></line>`, padL, plotW-padR, y.at(m.Value), y.at(m.Value), esc(m.Name+" "+num(m.Value)))
	}
	for i, s := range p.Series {
		colour := palette[i%len(palette)]
		pts := thin(s.Points)
		if s.Steps {
			var d strings.Builder
			for j, pt := range pts {
				if j == 0 {
					fmt.Fprintf(&d, "M%.1f %.1f", x.at(pt.X), y.at(pt.Y))
					continue
				}
				fmt.Fprintf(&d, "H%.1f V%.1f", x.at(pt.X), y.at(pt.Y))
			}
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.5"/>`, d.String(), colour)
			continue
		}
		fmt.Fprintf(&b, `<g fill="%s" fill-opacity="0.75">`, colour)
		for _, pt := range pts {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5"/>`, x.at(pt.X), y.at(pt.Y))
		}
		b.WriteString(`</g>`)
	}
	drawLegend(&b, legend)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec G203 -- built here, every text escaped
}

func distributionSVG(p Plot) template.HTML {
	hi := 0.0
	for _, s := range p.Series {
		for _, v := range s.Values {
			hi = math.Max(hi, v)
		}
	}
	for _, m := range p.Marks {
		hi = math.Max(hi, m.Value)
	}
	x := axis{0, niceMax(hi), padL, plotW - padR}
	y := axis{0, 1, plotH - padB, padT}
	names := make([]string, len(p.Series))
	for i, ser := range p.Series {
		names[i] = fmt.Sprintf("%s (%d)", ser.Name, len(ser.Values))
	}
	legend, legendH := layoutLegend(names, p.Marks)
	var b strings.Builder
	frame(&b, p.Title, p.X, "fraction of samples at or below", x, y, legendH)
	for _, m := range p.Marks {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="mark"><title>%s</title></line>`, x.at(m.Value), x.at(m.Value), padT, plotH-padB, esc(m.Name+" "+num(m.Value)))
	}
	for i, s := range p.Series {
		vs := slices.Clone(s.Values)
		slices.Sort(vs)
		var d strings.Builder
		fmt.Fprintf(&d, "M%.1f %.1f", x.at(0), y.at(0))
		for j, v := range vs {
			fmt.Fprintf(&d, "H%.1f V%.1f", x.at(v), y.at(float64(j+1)/float64(len(vs))))
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.8"/>`, d.String(), palette[i%len(palette)])
	}
	drawLegend(&b, legend)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec G203 -- built here, every text escaped
}

// niceMax is a round upper end for an axis that holds v.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	t := ticks(0, v*1.05, 5)
	return math.Max(t[len(t)-1], v*1.05)
}

// thin keeps at most maxPointsDrawn points, evenly, so a long run's page stays light.
func thin(pts []Point) []Point {
	if len(pts) <= maxPointsDrawn {
		return pts
	}
	out := make([]Point, 0, maxPointsDrawn+1)
	step := float64(len(pts)) / maxPointsDrawn
	for i := 0.0; int(i) < len(pts); i += step {
		out = append(out, pts[int(i)])
	}
	return append(out, pts[len(pts)-1])
}

// timelineRow is one fault window on the timeline.
type timelineRow struct {
	label      string
	start, end float64
}

// FaultTimelineSVG draws fault windows as bars on the run's clock, in seconds from its start.
func FaultTimelineSVG(r *Report, reqs []Requirement) template.HTML {
	var rows []timelineRow
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, q := range reqs {
		for _, f := range q.Faults {
			row := timelineRow{label: q.ID + " " + f.Fault + " on " + faultOn(f), start: f.Start.Sub(r.Started).Seconds(), end: f.End.Sub(r.Started).Seconds()}
			lo, hi = math.Min(lo, row.start), math.Max(hi, row.end)
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		return ""
	}
	if hi <= lo {
		hi = lo + 1
	}
	pad := (hi - lo) * 0.02
	x := axis{math.Max(0, lo-pad), hi + pad, timelineLabel, timelineW - padR}
	height := padT + len(rows)*timelineRowH + 36
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 %d %d" role="img" aria-label="fault windows">`, timelineW, height)
	fmt.Fprintf(&b, `<text x="4" y="16" class="title">Fault windows (s since the run began)</text>`)
	bottom := padT + len(rows)*timelineRowH
	for _, t := range ticks(x.lo, x.hi, 8) {
		px := x.at(t)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="grid"/><text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>`, px, px, padT, bottom, px, bottom+16, num(t))
	}
	for i, row := range rows {
		top := padT + i*timelineRowH
		w := math.Max(2, x.at(row.end)-x.at(row.start))
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="tick" text-anchor="end">%s</text>`, timelineLabel-6, top+14, esc(clip(row.label, 36)))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" rx="2" fill="%s"><title>%s: %.2f–%.2f s</title></rect>`,
			x.at(row.start), top+3, w, timelineRowH-6, palette[1], esc(row.label), row.start, row.end)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec G203 -- built here, every text escaped
}

func faultOn(f FaultWindow) string {
	on := f.Role
	for _, part := range []string{f.Name, f.Part} {
		if part != "" {
			on += " " + part
		}
	}
	return on
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
