package suites

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
)

// nodeLossMinDuring is DUR-4's gate on the window: at least this many requests sent while the
// state-store node was down, or the loss is not shown to have met any load.
const nodeLossMinDuring = 10

// nodeLossMinPerPath is the least number of requests over each wire sent while the node was down:
// one request on a wire is too few to say that wire rode out the election.
const nodeLossMinPerPath = 2

// nodeLoss is what DUR-4 observed, the input of its pure judge.
type nodeLoss struct {
	entries []chaosledger.Entry
	// window runs from the kill to the node's restart.
	window chaosledger.Window
	// paths are the wires the run sent over; each must carry a request inside the window.
	paths []string
	// killed is the part killed; leaderAtKill what StreamLeader named just before the kill.
	killed, leaderAtKill string
	// stream is the evidence stream, and replicas how many nodes kept it just before the kill
	// (StreamReplicas; 0 when it could not be read).
	stream   string
	replicas int
	// leadersWhileDown are StreamLeader's answers while the node was down (errors left out).
	leadersWhileDown []string
	// jobsRunning says the batch had not completed at the kill.
	jobsRunning bool
	// jobs is the batch as read after healing, done whether it completed, want its job count.
	jobs batchObject
	done bool
	want int
	// chain is the evidence chain counted once after the run settled (requests and jobs), and
	// jobTenant the tenant the batch was submitted as.
	chain     chainCount
	jobTenant string
	// chainFrom is the chain's last seq before the batch was submitted.
	chainFrom uint64
	// grace is how far past its deadline a request may end.
	grace time.Duration
}

// judgeNodeLoss is DUR-4's verdict: INVALID unless the killed node still led the stream when
// asked again just before the kill; FAIL when the stream had one or two replicas (the lost node
// was its only one, or the other alone is no majority: the evidence depended on that node,
// whatever the run then saw, as a spool or a quick restart may hide the loss for 12 s, not a node
// that does not come back); INVALID unless another node was named leader while it was down, the batch
// was running at the kill and at least nodeLossMinPerPath requests went over every wire while
// the node was down; else FAIL for any request lost, refused for the loss, served with no
// content or without one outcome in time, any request or job without exactly one evidence record
// of its own tenant in the settled chain, any job not completed exactly once (or run again under
// another id), or a chain that does not verify; else PASS.
func judgeNodeLoss(n nodeLoss) scenario.Result {
	switch {
	case n.leaderAtKill != n.killed:
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("the killed node %s did not lead the stream at the kill (%q did): a follower's loss forces no election", n.killed, n.leaderAtKill)}
	case n.replicas == 1:
		return scenario.Result{Verdict: scenario.Fail, Message: fmt.Sprintf("the evidence stream %s is kept on one node, %s, alone: its records depend on that node surviving, and no other can take it over when it is lost", n.stream, n.killed)}
	case n.replicas == 2:
		return scenario.Result{Verdict: scenario.Fail, Message: fmt.Sprintf("the evidence stream %s is kept on 2 nodes: losing one, %s, leaves no majority of its replicas to elect another leader, so it depends on that node surviving", n.stream, n.killed)}
	case !slices.ContainsFunc(n.leadersWhileDown, func(l string) bool { return l != "" && l != n.killed }):
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("no other node was named leader while %s was down (answers: %s): no election is shown to have happened", n.killed, listOrNone(n.leadersWhileDown))}
	case !n.jobsRunning:
		return scenario.Result{Verdict: scenario.Invalid, Message: "the batch had completed before the kill: the loss could not hit running jobs"}
	}
	during := chaosledger.Started(n.entries, n.window)
	if len(during) < nodeLossMinDuring {
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("%d requests were sent while %s was down, fewer than %d", len(during), n.killed, nodeLossMinDuring)}
	}
	if thin := pathsUnder(during, n.paths, nodeLossMinPerPath); len(thin) > 0 {
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("fewer than %d requests over %s were sent while %s was down (%s)", nodeLossMinPerPath, strings.Join(thin, ", "), n.killed, pathsText(during))}
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
		case !e.Outcome.Served():
			fails = append(fails, fmt.Sprintf("request #%d (%s) was refused %s/%s during the node loss", e.Seq, e.Path, e.Outcome, e.Reason))
		case e.Latency() > e.Deadline+n.grace:
			fails = append(fails, fmt.Sprintf("request #%d (%s) took %s, past its deadline %s", e.Seq, e.Path, e.Latency().Round(time.Millisecond), e.Deadline))
		}
		fails = append(fails, hollowServe(e)...)
		fails = append(fails, n.chain.once(fmt.Sprintf("request #%d (%s)", e.Seq, e.Path), e.RequestID, e.Tenant)...)
	}
	jobFails, strays := jobsOnce(n)
	fails = append(fails, jobFails...)
	if n.chain.problem != "" {
		fails = append(fails, "the evidence chain does not verify: "+n.chain.problem)
	}
	if len(fails) > 0 {
		return scenario.Result{Verdict: scenario.Fail, Message: problemsText(fails)}
	}
	rerun := "no job ran again under another id"
	if !strays {
		rerun = "a job run again under another id is not looked for (its records share a traffic class with the requests')"
	}
	return scenario.Result{Verdict: scenario.Pass, Message: fmt.Sprintf("%s killed while leading; %s led after; %d requests (%d while down: %s), %d jobs, one record each of its own tenant in a settled chain of %d records that verifies; %s",
		n.killed, firstOther(n.leadersWhileDown, n.killed), len(n.entries), len(during), pathsText(during), n.want, n.chain.length, rerun)}
}

// jobsOnce is every way the batch broke "completed exactly once, one record each", and whether
// the chain could be searched for a job run again under another id (see strayJobs).
func jobsOnce(n nodeLoss) (fails []string, strays bool) {
	fails = batchOnce(n.jobs, n.done, n.want, n.chain, n.jobTenant)
	if n.done {
		var jobs []string
		for _, o := range n.jobs.Output {
			jobs = append(jobs, o.Response.RequestID)
		}
		var requests []string
		for _, e := range n.entries {
			requests = append(requests, e.RequestID)
		}
		var stray []string
		stray, strays = n.chain.strayJobs(n.chainFrom, n.jobTenant, jobs, requests)
		fails = append(fails, stray...)
	}
	return fails, strays
}

// batchOnce is every way batch b (done: it completed) of tenant broke "want jobs, each completed
// exactly once with one record of tenant in chain".
func batchOnce(b batchObject, done bool, want int, chain chainCount, tenant string) []string {
	if !done {
		return []string{fmt.Sprintf("batch %s did not complete after the fault healed: %s with %d of %d jobs done", b.ID, b.Status, b.Counts.Completed+b.Counts.Failed, b.Counts.Total)}
	}
	var fails []string
	if b.Counts.Total != want || b.Counts.Failed != 0 {
		fails = append(fails, fmt.Sprintf("batch %s counts %d jobs, %d failed; %d were submitted, none may fail", b.ID, b.Counts.Total, b.Counts.Failed, want))
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
		fails = append(fails, chain.once(what, o.Response.RequestID, tenant)...)
	}
	if len(seen) != want {
		fails = append(fails, fmt.Sprintf("batch %s has results for %d of its %d jobs", b.ID, len(seen), want))
	}
	return fails
}

// pathsUnder names the paths of want fewer than least entries went over.
func pathsUnder(entries []chaosledger.Entry, want []string, least int) []string {
	seen := byPath(entries)
	var out []string
	for _, p := range want {
		if seen[p] < least {
			out = append(out, p)
		}
	}
	return out
}

// hollowServe is the failure of a request the client was told was served but that carried no
// content, or whose answer broke the contract: a router answering 200 with nothing during a fault
// is not serving.
func hollowServe(e chaosledger.Entry) []string {
	if !answered(e) || !e.Served() {
		return nil
	}
	var out []string
	if e.Tokens == 0 {
		out = append(out, fmt.Sprintf("request #%d of %s (%s) to %s was answered %s with no content", e.Seq, e.Tenant, e.Path, e.Endpoint, e.Outcome))
	}
	if len(e.Violations) > 0 {
		out = append(out, fmt.Sprintf("request #%d of %s (%s) to %s broke the contract: %s", e.Seq, e.Tenant, e.Path, e.Endpoint, strings.Join(e.Violations, "; ")))
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
