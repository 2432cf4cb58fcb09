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
)

// nodeLossMinDuring is DUR-4's gate on the window: at least this many requests sent while the
// state-store node was down, or the loss is not shown to have met any load.
const nodeLossMinDuring = 10

// callerLimits are the refusals a node loss cannot be blamed for: the caller's own quota and
// concurrency limits. Every other request of the run must be served.
var callerLimits = []outcome.Reason{outcome.ReasonQuotaExceeded, outcome.ReasonConcurrencyExceeded}

// nodeLoss is what DUR-4 observed, the input of its pure judge.
type nodeLoss struct {
	entries []chaosledger.Entry
	// window runs from the kill to the node's restart.
	window chaosledger.Window
	// paths are the wires the run sent over; each must carry a request inside the window.
	paths []string
	// killed is the part killed; leaderAtKill what StreamLeader named just before the kill.
	killed, leaderAtKill string
	// leadersWhileDown are StreamLeader's answers while the node was down (errors left out).
	leadersWhileDown []string
	// jobsRunning says the batch had not completed at the kill.
	jobsRunning bool
	// jobs is the batch as read after healing, done whether it completed, want its job count.
	jobs batchObject
	done bool
	want int
	// records counts the evidence records of each request id (requests and jobs).
	records map[string]int
	// chain is why the evidence chain does not verify, "" when it does.
	chain string
	// grace is how far past its deadline a request may end.
	grace time.Duration
}

// judgeNodeLoss is DUR-4's verdict: INVALID unless the killed node led the stream, another node
// was named leader while it was down, the batch was running at the kill and requests were in
// flight over every wire across the window; else FAIL for any request lost, refused for the
// loss or without one outcome in time, any request or job without exactly one evidence record,
// any job not completed exactly once, or a chain that does not verify; else PASS.
func judgeNodeLoss(n nodeLoss) scenario.Result {
	switch {
	case n.leaderAtKill != n.killed:
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("the killed node %s did not lead the stream at the kill (%q did): a follower's loss forces no election", n.killed, n.leaderAtKill)}
	case !slices.ContainsFunc(n.leadersWhileDown, func(l string) bool { return l != "" && l != n.killed }):
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("no other node was named leader while %s was down (answers: %s): no election is shown to have happened", n.killed, listOrNone(n.leadersWhileDown))}
	case !n.jobsRunning:
		return scenario.Result{Verdict: scenario.Invalid, Message: "the batch had completed before the kill: the loss could not hit running jobs"}
	}
	during := chaosledger.Started(n.entries, n.window)
	if len(during) < nodeLossMinDuring {
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("%d requests were sent while %s was down, fewer than %d", len(during), n.killed, nodeLossMinDuring)}
	}
	if missing := pathsWithout(during, n.paths); len(missing) > 0 {
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("no request over %s was sent while %s was down", strings.Join(missing, ", "), n.killed)}
	}
	var fails []string
	for _, p := range chaosledger.OneTerminalOutcome(n.entries) {
		fails = append(fails, p.String())
	}
	for _, e := range n.entries {
		switch {
		case !answered(e) || e.Indeterminate:
			fails = append(fails, fmt.Sprintf("request #%d (%s) was lost: %s", e.Seq, e.Path, cmp.Or(e.Error, "no outcome reached the client")))
			continue
		case !e.Outcome.Served() && !slices.Contains(callerLimits, e.Reason):
			fails = append(fails, fmt.Sprintf("request #%d (%s) was refused %s/%s during the node loss", e.Seq, e.Path, e.Outcome, e.Reason))
		case e.Latency() > e.Deadline+n.grace:
			fails = append(fails, fmt.Sprintf("request #%d (%s) took %s, past its deadline %s", e.Seq, e.Path, e.Latency().Round(time.Millisecond), e.Deadline))
		}
		fails = append(fails, onceEach(n.records, fmt.Sprintf("request #%d (%s)", e.Seq, e.Path), e.RequestID)...)
	}
	fails = append(fails, jobsOnce(n)...)
	if n.chain != "" {
		fails = append(fails, "the evidence chain does not verify: "+n.chain)
	}
	if len(fails) > 0 {
		return scenario.Result{Verdict: scenario.Fail, Message: problemsText(fails)}
	}
	return scenario.Result{Verdict: scenario.Pass, Message: fmt.Sprintf("%s killed while leading; %s led after; %d requests (%d while down), %d jobs, one record each; the chain verifies",
		n.killed, firstOther(n.leadersWhileDown, n.killed), len(n.entries), len(during), n.want)}
}

// jobsOnce is every way the batch broke "completed exactly once, one record each".
func jobsOnce(n nodeLoss) []string {
	b := n.jobs
	if !n.done {
		return []string{fmt.Sprintf("batch %s did not complete after the node came back: %s with %d of %d jobs done", b.ID, b.Status, b.Counts.Completed+b.Counts.Failed, b.Counts.Total)}
	}
	var fails []string
	if b.Counts.Total != n.want || b.Counts.Failed != 0 {
		fails = append(fails, fmt.Sprintf("batch %s counts %d jobs, %d failed; %d were submitted, none may fail", b.ID, b.Counts.Total, b.Counts.Failed, n.want))
	}
	seen := map[string]bool{}
	for _, o := range b.Output {
		what := fmt.Sprintf("job %s of batch %s", o.CustomID, b.ID)
		switch {
		case seen[o.CustomID]:
			fails = append(fails, what+" has two results")
		case o.Response.StatusCode != 200:
			fails = append(fails, fmt.Sprintf("%s ended with status %d", what, o.Response.StatusCode))
		}
		seen[o.CustomID] = true
		fails = append(fails, onceEach(n.records, what, o.Response.RequestID)...)
	}
	if len(seen) != n.want {
		fails = append(fails, fmt.Sprintf("batch %s has results for %d of its %d jobs", b.ID, len(seen), n.want))
	}
	return fails
}

// onceEach is the failure of what (request id) when it has no id or not exactly one record.
func onceEach(records map[string]int, what, id string) []string {
	if id == "" {
		return []string{what + " was answered without a request id: its evidence cannot be found"}
	}
	if c := records[id]; c != 1 {
		return []string{fmt.Sprintf("%s (%s) has %d evidence records, not one", what, id, c)}
	}
	return nil
}

// pathsWithout names the paths of want no entry went over.
func pathsWithout(entries []chaosledger.Entry, want []string) []string {
	seen := byPath(entries)
	var out []string
	for _, p := range want {
		if seen[p] == 0 {
			out = append(out, p)
		}
	}
	return out
}

// maxProblems is how many failures a verdict message names before counting the rest.
const maxProblems = 8

// problemsText joins failures for a verdict, the first maxProblems by name.
func problemsText(fails []string) string {
	if len(fails) <= maxProblems {
		return strings.Join(fails, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(fails[:maxProblems], "; "), len(fails)-maxProblems)
}

// listOrNone is names joined, or "none".
func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// firstOther is the first of names that is not the killed node.
func firstOther(names []string, killed string) string {
	for _, n := range names {
		if n != "" && n != killed {
			return n
		}
	}
	return "none"
}
