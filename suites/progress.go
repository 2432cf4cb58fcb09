package suites

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/aruntime/arcert/conformance/report"
)

// progress tells a person at a terminal, or a CI log, where a run is: each spec as it ends
// ("[core 12/32] TEN-3 PASS 7.9s"), and while one runs either a status line redrawn each second
// (on a terminal) or, in plain output, a line every heartbeat saying it is still running.
// Ginkgo's own dots name nothing and come minutes apart.
type progress struct {
	mu    sync.Mutex
	out   io.Writer
	live  bool
	start time.Time
	// order is the profiles in the order they were asked for; total and done count their specs.
	order       []string
	total, done map[string]int
	running     string // the running spec's requirements, "" between specs
	since       time.Time
	nextBeat    time.Time
	stop        chan struct{}
	stopped     sync.WaitGroup
	now         func() time.Time
}

// statusWidth bounds the live status line, in characters.
const statusWidth = 100

// heartbeat is how often plain output says a long spec is still running.
const heartbeat = 30 * time.Second

func newProgress(out io.Writer, live bool, profiles []string, total map[string]int) *progress {
	p := &progress{out: out, live: live, order: profiles, total: total, done: map[string]int{}, now: time.Now, stop: make(chan struct{})}
	p.start = p.now()
	var plan []string
	for _, name := range profiles {
		plan = append(plan, fmt.Sprintf("%s %d", name, total[name]))
	}
	fmt.Fprintf(out, "arcert: specs to run: %s\n", strings.Join(plan, ", "))
	p.stopped.Add(1)
	go p.tick()
	return p
}

// tick redraws the status line each second, or writes the plain heartbeat.
func (p *progress) tick() {
	defer p.stopped.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.beat()
			p.mu.Unlock()
		}
	}
}

func (p *progress) beat() {
	switch {
	case p.running == "":
	case p.live:
		// One line, short enough not to wrap, or the next redraw clears only its last part.
		fmt.Fprintf(p.out, "\r\033[K%s", clipLine(p.status(), statusWidth))
	case !p.now().Before(p.nextBeat):
		fmt.Fprintf(p.out, "  %s still running (%s; run %s)\n", p.running, p.now().Sub(p.since).Round(time.Second), p.now().Sub(p.start).Round(time.Second))
		p.nextBeat = p.now().Add(heartbeat)
	}
}

// status is the live line: what runs, for how long, and what is left of each profile.
func (p *progress) status() string {
	var left []string
	for _, name := range p.order {
		if p.total[name] > 0 && p.done[name] < p.total[name] {
			left = append(left, fmt.Sprintf("%s %d/%d", name, p.done[name], p.total[name]))
		}
	}
	return fmt.Sprintf("running %s %s · run %s · to go: %s", p.running, p.now().Sub(p.since).Round(time.Second),
		p.now().Sub(p.start).Round(time.Second), strings.Join(left, ", "))
}

// began notes that a spec started.
func (p *progress) began(s types.SpecReport) {
	if !counts(s) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running, p.since = requirementsOf(s), p.now()
	p.nextBeat = p.since.Add(heartbeat)
	p.beat()
}

// ended writes the line of a spec that ended.
func (p *progress) ended(s types.SpecReport) {
	if !counts(s) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	prof := profileOf(s)
	p.done[prof]++
	result, why := specResult(s)
	line := fmt.Sprintf("[%s %d/%d] %s %s %s", prof, p.done[prof], p.total[prof], requirementsOf(s), result, s.RunTime.Round(100*time.Millisecond))
	if why != "" {
		line += ": " + clipLine(why, 160)
	}
	if p.live {
		fmt.Fprint(p.out, "\r\033[K")
	}
	fmt.Fprintln(p.out, line)
	p.running = ""
}

// finish stops the status line.
func (p *progress) finish() {
	close(p.stop)
	p.stopped.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live {
		fmt.Fprint(p.out, "\r\033[K")
	}
}

// counts reports whether s is a spec that runs (not a filtered one, not a setup node).
func counts(s types.SpecReport) bool {
	return s.LeafNodeType == types.NodeTypeIt && !s.State.Is(types.SpecStateSkipped|types.SpecStatePending)
}

func requirementsOf(s types.SpecReport) string {
	var ids []string
	for _, l := range s.Labels() {
		if id, ok := strings.CutPrefix(l, "req:"); ok {
			ids = append(ids, id)
		}
	}
	return strings.Join(ids, ",")
}

func profileOf(s types.SpecReport) string {
	for _, l := range s.Labels() {
		if p, ok := strings.CutPrefix(l, "profile:"); ok {
			return p
		}
	}
	return "?"
}

// specResult is how the spec ended, in the report's words, and why when it did not pass; the
// requirement's result, which also weighs the samples every spec judged, is the report's to give.
func specResult(s types.SpecReport) (string, string) {
	for _, e := range s.ReportEntries {
		if h, ok := e.Value.GetRawValue().(heldBack); ok {
			return string(report.Invalid), h.String() // whatever it concluded (overrideHeld)
		}
	}
	if s.State.Is(types.SpecStateFailureStates) {
		return string(report.Fail), report.Condense(failureText(s.Failure), s.Failure.Location.String())
	}
	for _, e := range s.ReportEntries {
		if v, ok := e.Value.GetRawValue().(verdict); ok {
			return string(v.Verdict), v.Message
		}
	}
	return string(report.Pass), ""
}

func clipLine(s string, n int) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(line); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return line
}
