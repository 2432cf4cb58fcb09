package suites

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
)

// The DUR-5 judgement as pure functions of what the run saw, so each verdict can be tested on a
// synthetic ledger: partitionGate says whether the run can be judged at all, and the others list
// the problems (each a sentence naming the request) that FAIL it.

// partitionMinPerPath is the least number of requests to the cut router over each wire past
// detection: one request on a wire could pass the partition by luck.
const partitionMinPerPath = 2

// partitionLedger is what the router-partition run saw.
type partitionLedger struct {
	// router is the cut router's part name; cutAt its endpoints (HTTP base URL, gRPC address),
	// as the ledger's Endpoint names them.
	router string
	cutAt  []string
	window chaosledger.Window
	// detection is the runtime's declared detection time, grace the tolerance on deadlines.
	detection, grace time.Duration
	// paths are the wires the run must have reached the cut router over.
	paths   []string
	entries []chaosledger.Entry
	batch   partitionBatch
	spool   spoolProbe
	// chain is the evidence chain counted once after healing, when it had settled.
	chain chainCount
}

// partitionBatch is the batch submitted to the cut router during the window and its answer.
type partitionBatch struct {
	sent   bool
	status int // 0 when no answer arrived
	class  outcome.Class
	reason outcome.Reason
	// retryAfter is the answer's Retry-After header, "" when absent.
	retryAfter string
	took       time.Duration
	deadline   time.Duration
	err        string // why no answer arrived
}

// accepted reports whether the cut router queued the batch.
func (b partitionBatch) accepted() bool { return b.status == 200 }

// late reports whether the batch got no answer within its deadline and the tolerance.
func (b partitionBatch) late() bool {
	return b.sent && (b.status == 0 || b.took > b.deadline+deadlineGrace)
}

// refusedForOutage reports whether the cut router refused the batch for the partition.
func (b partitionBatch) refusedForOutage() bool {
	return b.status != 0 && !b.accepted() && slices.Contains(queueAnswers, b.reason)
}

// spoolProbe is the look, just before healing, at the evidence of requests the cut router had
// answered in the window: absent of sampled had no record in the chain yet (held in its spool).
type spoolProbe struct {
	sampled, absent int
}

// toCut reports whether e was sent to the cut router.
func (l partitionLedger) toCut(e chaosledger.Entry) bool { return slices.Contains(l.cutAt, e.Endpoint) }

// cutSettled are the requests sent to the cut router that started in the window past the
// detection time.
func (l partitionLedger) cutSettled() []chaosledger.Entry {
	w := chaosledger.Window{Start: l.window.Start.Add(l.detection), End: l.window.End}
	return chaosledger.Where(chaosledger.Started(l.entries, w), l.toCut)
}

// partitionGate is the validity gate: requests reached the cut router over every wire while it
// was cut (past detection), and the runtime showed it was cut (the batch refused for the outage or
// left unanswered past its deadline, or a record of a window request not yet chained when the
// window ended). Else INVALID: the run
// proves nothing about a partition.
func partitionGate(l partitionLedger) scenario.Result {
	settled := l.cutSettled()
	if len(settled) < minSettled {
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("%d requests reached %s while it was cut (past the detection time of %s), fewer than %d",
			len(settled), l.router, l.detection, minSettled)}
	}
	if thin := pathsUnder(settled, l.paths, partitionMinPerPath); len(thin) > 0 {
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf("fewer than %d requests reached %s over %s while it was cut (%s)",
			partitionMinPerPath, l.router, strings.Join(thin, ", "), pathsText(settled))}
	}
	if !l.batch.refusedForOutage() && !l.batch.late() && l.spool.absent == 0 {
		return scenario.Result{Verdict: scenario.Invalid, Message: fmt.Sprintf(
			"the runtime never showed %s was cut from the state store: its batch was answered %d %s/%s and all %d records of its window requests sampled were chained before healing",
			l.router, l.batch.status, l.batch.class, l.batch.reason, l.spool.sampled)}
	}
	return scenario.Result{Verdict: scenario.Pass}
}

// partitionServing lists the synchronous requests the partition broke: any request of the run
// served with no content, a request to the router that stays connected refused at all (the load's
// tenants have quota to spare, so even a quota refusal is the partition's), any request of the
// run refused naming a dependency (the partition surfaced to a client; the whole run is judged,
// since the router stays cut a moment past the window while it is reconnected), a request to the
// cut router past detection not served, a request ended in no outcome of the contract or past its
// deadline, and any request that came back with no answer at all.
func partitionServing(l partitionLedger) []string {
	var out []string
	for _, e := range l.entries {
		if e.Reason == outcome.ReasonDependencyUnavailable {
			out = append(out, fmt.Sprintf("request #%d of %s over %s to %s was refused naming a dependency (%s/%s)", e.Seq, e.Tenant, e.Path, e.Endpoint, e.Outcome, e.Reason))
		}
	}
	for _, e := range l.cutSettled() {
		if !e.Served() && !e.Indeterminate && e.Reason != outcome.ReasonDependencyUnavailable {
			out = append(out, fmt.Sprintf("request #%d of %s over %s to the cut router %s was answered %s/%s, not served", e.Seq, e.Tenant, e.Path, l.router, e.Outcome, e.Reason))
		}
	}
	for _, e := range l.entries {
		out = append(out, hollowServe(e)...)
		if !l.toCut(e) && answered(e) && !e.Indeterminate && !e.Served() && e.Reason != outcome.ReasonDependencyUnavailable {
			out = append(out, fmt.Sprintf("request #%d of %s over %s to the connected router %s was answered %s/%s, not served", e.Seq, e.Tenant, e.Path, e.Endpoint, e.Outcome, e.Reason))
		}
	}
	for _, p := range chaosledger.OneTerminalOutcome(l.entries) {
		out = append(out, p.String())
	}
	for _, p := range chaosledger.NoneHung(l.entries, func(e chaosledger.Entry) bool { return e.Latency() <= e.Deadline+l.grace }) {
		out = append(out, p.String())
	}
	for _, e := range l.entries {
		if e.Indeterminate {
			out = append(out, fmt.Sprintf("request #%d of %s over %s to %s got no answer: %s", e.Seq, e.Tenant, e.Path, e.Endpoint, e.Error))
		}
	}
	return out
}

// partitionBatchProblems lists what is wrong with the cut router's answer to the batch: none in
// time, an outcome outside the contract, or a refusal for a reason other than the outage. An
// accepted batch must then complete exactly once, which the spec checks after healing.
func partitionBatchProblems(b partitionBatch) []string {
	if !b.sent {
		return []string{"no batch was submitted to the cut router"}
	}
	var out []string
	if b.late() {
		out = append(out, fmt.Sprintf("the batch submitted to the cut router was answered after %s (status %d, %s), past its deadline of %s and the tolerance of %s",
			b.took.Round(time.Millisecond), b.status, b.err, b.deadline, deadlineGrace))
	}
	if b.status != 0 && !b.class.Valid() {
		out = append(out, fmt.Sprintf("the batch submitted to the cut router got outcome %q (status %d), not a class of the contract", b.class, b.status))
	}
	if b.status != 0 && !b.accepted() && !slices.Contains(queueAnswers, b.reason) {
		out = append(out, fmt.Sprintf("the batch submitted to the cut router was refused %d %s/%s, not for the outage", b.status, b.class, b.reason))
	}
	return out
}

// answeredEntries are the entries the runtime answered with a request id: each must have one record.
func answeredEntries(entries []chaosledger.Entry) []chaosledger.Entry {
	return chaosledger.Where(entries, func(e chaosledger.Entry) bool { return !e.Indeterminate && e.RequestID != "" })
}

// partitionEvidence lists the answered requests (to either router) without exactly one evidence
// record of their own tenant in the chain counted once after healing (a spool replayed twice
// appends its duplicates late), and a chain that does not verify.
func partitionEvidence(l partitionLedger) []string {
	var out []string
	for _, e := range answeredEntries(l.entries) {
		out = append(out, l.chain.once(fmt.Sprintf("request #%d of %s over %s to %s", e.Seq, e.Tenant, e.Path, e.Endpoint), e.RequestID, e.Tenant)...)
	}
	if l.chain.problem != "" {
		out = append(out, "the evidence chain does not verify after healing: "+l.chain.problem)
	}
	return out
}
