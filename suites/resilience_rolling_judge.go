package suites

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/driver"
)

// rollingMinDuring is FLT-4's gate on each router's absence: at least this many requests sent
// between its stop and its being ready again, or the restart is not shown to have met any load.
const rollingMinDuring = 5

// rollingMinPerPath is the least number of requests over each wire sent while some router was
// draining or away: a wire with one sample could pass the restart by luck.
const rollingMinPerPath = 2

// drainSlack is how long before a router was asked to stop a request to it may still be shed for
// draining: the request and the stop cross on the wire. Any other shed for draining is a router
// claiming to drain when it was not.
const drainSlack = 500 * time.Millisecond

// minNoticeProbes is how many of the balancer's readiness probes a router must answer not ready
// before it stops answering: load balancers take a backend out after a few failed probes in a row
// (Kubernetes readiness three by default, cloud balancers two), not after the first.
const minNoticeProbes = 2

// ordinal spells n as an English ordinal for the small counts of minNoticeProbes.
func ordinal(n int) string {
	if w := []string{"", "first", "second", "third"}; n < len(w) {
		return w[n]
	}
	return fmt.Sprintf("%dth", n)
}

// rollStep is one router's turn in a rolling restart.
type rollStep struct {
	// router is its part name, base its HTTP base URL and addr its gRPC address ("" without gRPC).
	router, base, addr string
	// start is when it was asked to stop, stopped when that stop returned (the router's process
	// had ended; zero when the stop failed), back when the balancer saw it ready again (zero
	// when it never did).
	start, stopped, back time.Time
	// problem is what went wrong with the stop or the restart, "" when nothing did.
	problem string
}

// rolling is what FLT-4 observed, the input of its pure judge.
type rolling struct {
	entries []chaosledger.Entry
	steps   []rollStep
	// want is how many routers the deployment has: each must take its turn.
	want int
	// bases are the routers' base URLs and changes the balancer's readiness history over them.
	bases   []string
	changes []driver.Change
	// from and to bound the load.
	from, to time.Time
	// chain is the evidence chain counted once after the run settled.
	chain chainCount
	// paths are the wires the run sent over; each must carry requests while routers were away.
	paths []string
	grace time.Duration
	// poll is how often the balancer probed each router's /healthz.
	poll time.Duration
}

// judgeRolling is FLT-4's verdict: INVALID when a router's turn is missing; then FAIL for a router
// that stopped answering its readiness probe without having answered not ready to at least
// minNoticeProbes probes (too little notice for a balancer; the light load of the run may send it
// nothing in that gap, a real one would), which needs no load to show, even when its restart then
// failed; then INVALID unless every router was stopped (the harness's stop
// and start worked, and the balancer saw it not ready during its turn), some requests were sent
// while each was draining or away, every wire carried requests while routers were away, and the
// balancer saw at least one router ready at all times; else FAIL for a router that never reported
// ready again within the recovery time (a rolling restart that leaves a router down), a request lost to a connection error, without one outcome
// in time, served with no content, refused other than shed/draining by the router in its turn
// with a Retry-After (over HTTP; gRPC's contract has no Retry-After), or without exactly one
// evidence record of its own tenant; else PASS.
func judgeRolling(r rolling) scenario.Result {
	if len(r.steps) != r.want && (len(r.steps) == 0 || !r.steps[len(r.steps)-1].back.IsZero()) {
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("%d of %d routers took their turn", len(r.steps), r.want)}
	}
	// A router that went without notice is a defect however thin the rest of the run: judged
	// before the gates on the load, which it does not need.
	if fails := r.departures(); len(fails) > 0 {
		return scenario.Result{Verdict: scenario.Fail, Message: problemsText(fails)}
	}
	var fails []string
	var away []chaosledger.Entry
	for _, s := range r.steps {
		if s.problem != "" {
			return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("router %s: %s", s.router, s.problem)}
		}
		if s.back.IsZero() {
			fails = append(fails, fmt.Sprintf("router %s never reported ready again after its restart, within the recovery time", s.router))
			continue
		}
		if !sawDown(r.changes, s.base, s.start, s.back) {
			return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("the balancer never saw router %s not ready during its turn: the stop is not shown to have taken it away", s.router)}
		}
		during := chaosledger.Started(r.entries, chaosledger.Window{Start: s.start, End: s.back})
		if len(during) < rollingMinDuring {
			return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("%d requests were sent while router %s was draining or away, fewer than %d", len(during), s.router, rollingMinDuring)}
		}
		away = append(away, during...)
	}
	if len(fails) > 0 {
		return scenario.Result{Verdict: scenario.Fail, Message: problemsText(fails)}
	}
	if thin := pathsUnder(away, r.paths, rollingMinPerPath); len(thin) > 0 {
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("fewer than %d requests over %s were sent while routers were draining or away (%s)", rollingMinPerPath, strings.Join(thin, ", "), pathsText(away))}
	}
	if gaps := noneReady(r.changes, r.bases, r.from, r.to); len(gaps) > 0 {
		g := gaps[0]
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("no router reported ready for %s from %s (%d such gaps): a balancer had nowhere to send requests, so the run does not show a rolling restart",
			g.End.Sub(g.Start).Round(time.Millisecond), g.Start.Format("15:04:05.000"), len(gaps))}
	}
	for _, p := range chaosledger.OneTerminalOutcome(r.entries) {
		fails = append(fails, p.String())
	}
	drained := 0
	for _, e := range r.entries {
		switch {
		case !answered(e) || e.Indeterminate:
			fails = append(fails, fmt.Sprintf("request #%d (%s) to %s was lost: %s", e.Seq, e.Path, e.Endpoint, cmp.Or(e.Error, "no outcome reached the client")))
			continue
		case e.Outcome.Served():
		case e.Outcome != outcome.Shed || e.Reason != outcome.ReasonDraining:
			fails = append(fails, fmt.Sprintf("request #%d (%s) to %s was refused %s/%s; the only refusal a rolling restart allows is shed/draining", e.Seq, e.Path, e.Endpoint, e.Outcome, e.Reason))
		case !r.inTurn(e):
			fails = append(fails, fmt.Sprintf("request #%d (%s) to %s was shed for draining at %s, when that router was not taking its turn", e.Seq, e.Path, e.Endpoint, e.Start.Format("15:04:05.000")))
		case e.RetryAfter <= 0:
			fails = append(fails, fmt.Sprintf("request #%d (%s) to %s was shed for draining without a retry delay (%s)", e.Seq, e.Path, e.Endpoint, retryHintName(e.Path)))
		default:
			drained++
		}
		if e.Latency() > e.Deadline+r.grace {
			fails = append(fails, fmt.Sprintf("request #%d (%s) took %s, past its deadline %s", e.Seq, e.Path, e.Latency().Round(time.Millisecond), e.Deadline))
		}
		fails = append(fails, hollowServe(e)...)
		fails = append(fails, r.chain.once(fmt.Sprintf("request #%d (%s)", e.Seq, e.Path), e.RequestID, e.Tenant)...)
	}
	if r.chain.problem != "" {
		fails = append(fails, "the evidence chain does not verify: "+r.chain.problem)
	}
	if len(fails) > 0 {
		return scenario.Result{Verdict: scenario.Fail, Message: problemsText(fails)}
	}
	return scenario.Result{Verdict: scenario.Pass, Message: fmt.Sprintf("%d routers restarted in turn under %d requests (%d while one was draining or away: %s); %d shed for draining with a Retry-After by the router in its turn, none lost, one record each of its own tenant in a settled chain of %d records that verifies",
		len(r.steps), len(r.entries), len(away), pathsText(away), drained, r.chain.length)}
}

// inTurn reports whether e went to the router taking its turn when e was sent (from drainSlack
// before its stop until it was ready again): the only router that may shed for draining.
func (r rolling) inTurn(e chaosledger.Entry) bool {
	for _, s := range r.steps {
		if e.Endpoint == "" || (e.Endpoint != s.base && e.Endpoint != s.addr) {
			continue
		}
		end := s.back
		if end.IsZero() {
			end = r.to
		}
		if !e.Start.Before(s.start.Add(-drainSlack)) && !e.Start.After(end) {
			return true
		}
	}
	return false
}

// sawDown reports whether the readiness history has base not ready at some point in [from, to].
func sawDown(changes []driver.Change, base string, from, to time.Time) bool {
	return slices.ContainsFunc(changes, func(c driver.Change) bool {
		return c.Base == base && !c.Ready && !c.At.Before(from) && !c.At.After(to)
	})
}

// departure is how a router left the balancer in its turn: the first probe it did not answer
// for good, and how many probes before it, since it was last ready, it answered not ready (its
// notice; 0 when it gave none).
type departure struct {
	gone         driver.Change
	noticeProbes int
}

// departed finds base's departure from the readiness history: the first unanswered probe since
// asked (when the harness asked it to stop) after which the router did not answer again before stopped, when the harness's stop of it returned
// (the old process was gone then; what answers after is the restarted one, whose 503 while it
// starts is no notice). An unanswered probe followed by answers before stopped was a slow answer,
// not a departure. ok is false when the router never went unanswered, having restarted faster
// than the balancer probes.
func departed(changes []driver.Change, base string, asked, stopped time.Time) (d departure, ok bool) {
	var mine []driver.Change
	for _, c := range changes {
		if c.Base == base {
			mine = append(mine, c)
		}
	}
	for i, c := range mine {
		if c.Answered || c.At.Before(asked) || (i+1 < len(mine) && !mine[i+1].At.After(stopped)) {
			continue
		}
		d.gone = c
		for j := i - 1; j >= 0 && !mine[j].Ready; j-- {
			if mine[j].Answered {
				d.noticeProbes += mine[j+1].Probe - mine[j].Probe
			}
		}
		return d, true
	}
	return departure{}, false
}

// departures are the FAILs of routers that went without minNoticeProbes probes of notice.
func (r rolling) departures() []string {
	var fails []string
	for _, s := range r.steps {
		if s.stopped.IsZero() {
			continue // the stop failed: the step is INVALID, and it never left
		}
		d, ok := departed(r.changes, s.base, s.start, s.stopped)
		switch {
		case !ok || d.noticeProbes >= minNoticeProbes:
		case d.noticeProbes == 0:
			fails = append(fails, fmt.Sprintf("router %s stopped answering its /healthz (probe at %s, %s after it was asked to stop) without first answering not ready: a balancer probing every %s had no notice, and would have sent it requests it could no longer take",
				s.router, d.gone.At.Format("15:04:05.000"), d.gone.At.Sub(s.start).Round(time.Millisecond), r.poll))
		default:
			fails = append(fails, fmt.Sprintf("router %s stopped answering its /healthz (probe at %s, %s after it was asked to stop) having answered not ready to %d probe(s) only, under %d of the balancer's (every %s): a balancer that acts on the %s failed probe, as most do, was still sending when it went",
				s.router, d.gone.At.Format("15:04:05.000"), d.gone.At.Sub(s.start).Round(time.Millisecond), d.noticeProbes, minNoticeProbes, r.poll, ordinal(minNoticeProbes)))
		}
	}
	return fails
}

// departureWords says how router s left the balancer in its turn, for the evidence.
func (r rolling) departureWords(s rollStep) string {
	if s.stopped.IsZero() {
		return fmt.Sprintf("router %s was not stopped", s.router)
	}
	d, ok := departed(r.changes, s.base, s.start, s.stopped)
	if !ok {
		return fmt.Sprintf("router %s answered its /healthz throughout its turn (back before a probe found it gone)", s.router)
	}
	return fmt.Sprintf("router %s answered not ready to %d probe(s) (its notice) and then not at all, from %s after its stop",
		s.router, d.noticeProbes, d.gone.At.Sub(s.start).Round(time.Millisecond))
}

// drainedSheds counts the requests shed for draining, FLT-4's refusal samples.
func drainedSheds(entries []chaosledger.Entry) int {
	n := 0
	for _, e := range entries {
		if answered(e) && e.Outcome == outcome.Shed && e.Reason == outcome.ReasonDraining {
			n++
		}
	}
	return n
}

// isGRPC reports whether path is one of the gRPC wires.
func isGRPC(path string) bool { return path == viaGRPC || path == viaGRPCStream } // opsGRPC is viaGRPC

// retryHintName is what carries a refusal's retry delay on path: the Retry-After header over
// HTTP, a google.rpc.RetryInfo detail of the status over gRPC.
func retryHintName(path string) string {
	if isGRPC(path) {
		return "google.rpc.RetryInfo"
	}
	return "Retry-After"
}

// noneReady is every stretch of [from, to] in which the readiness history shows no router of
// bases ready. A router counts as not ready until its first change.
func noneReady(changes []driver.Change, bases []string, from, to time.Time) []chaosledger.Window {
	changes = slices.Clone(changes)
	slices.SortStableFunc(changes, func(a, b driver.Change) int { return a.At.Compare(b.At) })
	ready := map[string]bool{}
	count := func() int {
		n := 0
		for _, b := range bases {
			if ready[b] {
				n++
			}
		}
		return n
	}
	var gaps []chaosledger.Window
	var open time.Time // start of the current gap inside [from, to], zero when none
	i := 0
	for ; i < len(changes) && !changes[i].At.After(from); i++ {
		ready[changes[i].Base] = changes[i].Ready
	}
	if count() == 0 {
		open = from
	}
	for ; i < len(changes) && changes[i].At.Before(to); i++ {
		ready[changes[i].Base] = changes[i].Ready
		switch n := count(); {
		case n == 0 && open.IsZero():
			open = changes[i].At
		case n > 0 && !open.IsZero():
			gaps = append(gaps, chaosledger.Window{Start: open, End: changes[i].At})
			open = time.Time{}
		}
	}
	if !open.IsZero() {
		gaps = append(gaps, chaosledger.Window{Start: open, End: to})
	}
	return gaps
}
