package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strings"

	"github.com/aruntime/arcert/internal/svgaxis"
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

// frame draws the axes, their ticks and labels, and the title.
func frame(b *strings.Builder, title, xLabel, yLabel string, x, y svgaxis.Axis, legendH int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 %d %d" role="img" aria-label="%s">`, plotW, plotH+legendH, esc(title))
	fmt.Fprintf(b, `<text x="%d" y="16" class="title">%s</text>`, padL, esc(title))
	for _, t := range svgaxis.Ticks(y.Lo, y.Hi, 5) {
		py := y.At(t)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`,
			padL, plotW-padR, py, py, padL-6, py+4, svgaxis.Num(t))
	}
	for _, t := range svgaxis.Ticks(x.Lo, x.Hi, 8) {
		px := x.At(t)
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="axis"/><text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>`,
			px, px, plotH-padB, plotH-padB+4, px, plotH-padB+16, svgaxis.Num(t))
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
		add(m.Name+" "+svgaxis.Num(m.Value), "", true)
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
	x := svgaxis.Axis{Lo: xlo, Hi: xhi, From: padL, To: plotW - padR}
	y := svgaxis.Axis{Lo: 0, Hi: svgaxis.NiceMax(yhi), From: plotH - padB, To: padT}
	names := make([]string, len(p.Series))
	for i, ser := range p.Series {
		names[i] = ser.Name
	}
	legend, legendH := layoutLegend(names, p.Marks)
	var b strings.Builder
	frame(&b, p.Title, p.X, p.Y, x, y, legendH)
	for _, band := range p.Bands {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" class="band"><title>%s: %s–%s</title></rect><text x="%.1f" y="%d" class="tick">%s</text>`,
			x.At(band.From), padT, math.Max(1, x.At(band.To)-x.At(band.From)), plotH-padB-padT, esc(band.Name), svgaxis.Num(band.From), svgaxis.Num(band.To), x.At(band.From)+3, padT+12, esc(band.Name))
	}
	for _, m := range p.Marks {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="mark"><title>%s</title></line>`, padL, plotW-padR, y.At(m.Value), y.At(m.Value), esc(m.Name+" "+svgaxis.Num(m.Value)))
	}
	for i, s := range p.Series {
		colour := palette[i%len(palette)]
		pts := thin(s.Points)
		if s.Steps {
			var d strings.Builder
			for j, pt := range pts {
				if j == 0 {
					fmt.Fprintf(&d, "M%.1f %.1f", x.At(pt.X), y.At(pt.Y))
					continue
				}
				fmt.Fprintf(&d, "H%.1f V%.1f", x.At(pt.X), y.At(pt.Y))
			}
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.5"/>`, d.String(), colour)
			continue
		}
		fmt.Fprintf(&b, `<g fill="%s" fill-opacity="0.75">`, colour)
		for _, pt := range pts {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5"/>`, x.At(pt.X), y.At(pt.Y))
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
	x := svgaxis.Axis{Lo: 0, Hi: svgaxis.NiceMax(hi), From: padL, To: plotW - padR}
	y := svgaxis.Axis{Lo: 0, Hi: 1, From: plotH - padB, To: padT}
	names := make([]string, len(p.Series))
	for i, ser := range p.Series {
		names[i] = fmt.Sprintf("%s (%d)", ser.Name, len(ser.Values))
	}
	legend, legendH := layoutLegend(names, p.Marks)
	var b strings.Builder
	frame(&b, p.Title, p.X, "fraction of samples at or below", x, y, legendH)
	for _, m := range p.Marks {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="mark"><title>%s</title></line>`, x.At(m.Value), x.At(m.Value), padT, plotH-padB, esc(m.Name+" "+svgaxis.Num(m.Value)))
	}
	for i, s := range p.Series {
		vs := slices.Clone(s.Values)
		slices.Sort(vs)
		var d strings.Builder
		fmt.Fprintf(&d, "M%.1f %.1f", x.At(0), y.At(0))
		for j, v := range vs {
			fmt.Fprintf(&d, "H%.1f V%.1f", x.At(v), y.At(float64(j+1)/float64(len(vs))))
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.8"/>`, d.String(), palette[i%len(palette)])
	}
	drawLegend(&b, legend)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec G203 -- built here, every text escaped
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
	x := svgaxis.Axis{Lo: math.Max(0, lo-pad), Hi: hi + pad, From: timelineLabel, To: timelineW - padR}
	height := padT + len(rows)*timelineRowH + 36
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 %d %d" role="img" aria-label="fault windows">`, timelineW, height)
	fmt.Fprintf(&b, `<text x="4" y="16" class="title">Fault windows (s since the run began)</text>`)
	bottom := padT + len(rows)*timelineRowH
	for _, t := range svgaxis.Ticks(x.Lo, x.Hi, 8) {
		px := x.At(t)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="grid"/><text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>`, px, px, padT, bottom, px, bottom+16, svgaxis.Num(t))
	}
	for i, row := range rows {
		top := padT + i*timelineRowH
		w := math.Max(2, x.At(row.end)-x.At(row.start))
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="tick" text-anchor="end">%s</text>`, timelineLabel-6, top+14, esc(svgaxis.Clip(row.label, 36)))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" rx="2" fill="%s"><title>%s: %.2f–%.2f s</title></rect>`,
			x.At(row.start), top+3, w, timelineRowH-6, palette[1], esc(row.label), row.start, row.end)
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
