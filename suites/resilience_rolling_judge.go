package suites

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/driver"
)

// rollingMinDuring is FLT-4's gate on each router's absence: at least this many requests sent
// between its stop and its being ready again, or the restart is not shown to have met any load.
const rollingMinDuring = 5

// rollStep is one router's turn in a rolling restart.
type rollStep struct {
	router, base string
	// start is when it was asked to stop, back when the balancer saw it ready again (zero when
	// it never did).
	start, back time.Time
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
	// records counts the evidence records of each request id.
	records map[string]int
	grace   time.Duration
}

// judgeRolling is FLT-4's verdict: INVALID unless every router was stopped and came back, some
// requests were sent while each was draining or away, and the balancer saw at least one router
// ready at all times; else FAIL for a request lost to a connection error, without one outcome in
// time, refused other than shed/draining with a Retry-After (over HTTP; gRPC's contract has no
// Retry-After), or without exactly one evidence record; else PASS.
func judgeRolling(r rolling) scenario.Result {
	if len(r.steps) != r.want {
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("%d of %d routers took their turn", len(r.steps), r.want)}
	}
	for _, s := range r.steps {
		switch {
		case s.problem != "":
			return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("router %s: %s", s.router, s.problem)}
		case s.back.IsZero():
			return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("router %s never reported ready again after its restart", s.router)}
		}
		if n := len(chaosledger.Started(r.entries, chaosledger.Window{Start: s.start, End: s.back})); n < rollingMinDuring {
			return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("%d requests were sent while router %s was draining or away, fewer than %d", n, s.router, rollingMinDuring)}
		}
	}
	if gaps := noneReady(r.changes, r.bases, r.from, r.to); len(gaps) > 0 {
		g := gaps[0]
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("no router reported ready for %s from %s (%d such gaps): a balancer had nowhere to send requests, so the run does not show a rolling restart",
			g.End.Sub(g.Start).Round(time.Millisecond), g.Start.Format("15:04:05.000"), len(gaps))}
	}
	var fails []string
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
		case e.RetryAfter <= 0 && !isGRPC(e.Path):
			fails = append(fails, fmt.Sprintf("request #%d (%s) to %s was shed for draining without a Retry-After", e.Seq, e.Path, e.Endpoint))
		default:
			drained++
		}
		if e.Latency() > e.Deadline+r.grace {
			fails = append(fails, fmt.Sprintf("request #%d (%s) took %s, past its deadline %s", e.Seq, e.Path, e.Latency().Round(time.Millisecond), e.Deadline))
		}
		fails = append(fails, onceEach(r.records, fmt.Sprintf("request #%d (%s)", e.Seq, e.Path), e.RequestID)...)
	}
	if len(fails) > 0 {
		return scenario.Result{Verdict: scenario.Fail, Message: problemsText(fails)}
	}
	return scenario.Result{Verdict: scenario.Pass, Message: fmt.Sprintf("%d routers restarted in turn under %d requests; %d shed for draining with a Retry-After, none lost, one record each",
		len(r.steps), len(r.entries), drained)}
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
func isGRPC(path string) bool { return path == viaGRPC || path == viaGRPCStream }

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
