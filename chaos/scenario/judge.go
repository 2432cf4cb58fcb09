package scenario

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
)

// defaultMinSamples is the validity gate of an expectation that declares none: fewer requests
// than this say nothing about a phase.
const defaultMinSamples = 10

// evidencePoll is the pause between two lookups of an evidence record that has not arrived: a
// record spooled while a dependency was away reaches the store a moment after it is back.
const evidencePoll = 250 * time.Millisecond

// judge judges every phase's expectations on the requests that started in it. A nothing-lost
// expectation asks for a missing evidence record again until auditBy (the declared recovery time
// after rollback) has passed.
func (r *runner) judge(ctx context.Context, auditBy time.Time) []ExpectRecord {
	records := r.awaitRecords(auditBy)
	var out []ExpectRecord
	for i, ph := range r.plan.Phases {
		for _, e := range ph.Expect {
			c := r.rec.phases[i].Of(e.Tenant, e.Class)
			var recon []ledger.Entry
			if e.NothingLost {
				recon = r.rec.toReconcile(i, e.Tenant, e.Class)
			}
			out = append(out, ExpectRecord{Phase: ph.Name, Expectation: e, Samples: c.Requests,
				Result: Judge(ctx, e, c, recon, records)})
		}
	}
	return out
}

// awaitRecords is Env.Records asking again, every evidencePoll until by, for a record not there
// yet; nil when the environment has no evidence to read.
func (r *runner) awaitRecords(by time.Time) func(context.Context, string) (int, error) {
	if r.env.Records == nil {
		return nil
	}
	return func(ctx context.Context, id string) (int, error) {
		for {
			n, err := r.env.Records(ctx, id)
			if err != nil || n > 0 || !r.clock.Now().Before(by) {
				return n, err
			}
			select {
			case <-r.clock.After(evidencePoll):
			case <-ctx.Done():
				return n, nil
			}
		}
	}
}

// Judge judges one expectation on the counts of the requests it covers and, for NothingLost, the
// entries to reconcile: every one of them with a request id, and the indeterminate ones. records
// resolves those against the runtime's evidence (nil leaves a NothingLost expectation
// INCONCLUSIVE). It is pure but for records, so a game-day report can re-judge a stored ledger.
func Judge(ctx context.Context, e Expectation, c Counts, reconcile []ledger.Entry, records func(context.Context, string) (int, error)) Result {
	who := cmp.Or(e.Tenant, "every tenant")
	if e.Class != "" {
		who += " in " + e.Class
	}
	minN := cmp.Or(e.MinSamples, defaultMinSamples)
	if c.Requests < minN {
		return Result{Verdict: Invalid, Message: fmt.Sprintf("only %d requests of %s (need %d)", c.Requests, who, minN)}
	}
	var fails []string
	if c.Broken > 0 {
		fails = append(fails, fmt.Sprintf("%d broke the ledger's invariants (%s)", c.Broken, c.BrokenExample))
	}
	if c.Hung > 0 {
		fails = append(fails, fmt.Sprintf("%d hung past their deadline (%s)", c.Hung, c.HungExample))
	}
	if e.MinServed > 0 && c.ServedShare() < e.MinServed {
		fails = append(fails, fmt.Sprintf("served %.1f%% (%d of %d), need %.1f%%", 100*c.ServedShare(), c.Served, c.Requests, 100*e.MinServed))
	}
	if len(e.Allowed) > 0 {
		for _, o := range sortedKeys(c.Outcomes) {
			if n := c.Outcomes[o]; n > 0 && !allowed(e.Allowed, o) {
				fails = append(fails, fmt.Sprintf("%d ended %s, which is not allowed", n, strings.TrimSuffix(o, "/")))
			}
		}
	}
	for _, sb := range sortedKeys(c.ServedBy) {
		if f := forbiddenIn(e.Forbidden, sb); f != "" {
			fails = append(fails, fmt.Sprintf("%d served by %s, and %s is forbidden", c.ServedBy[sb], sb, f))
		}
	}
	if e.MaxP90TTFT > 0 && c.Served > 0 && c.P90TTFT > e.MaxP90TTFT {
		fails = append(fails, fmt.Sprintf("p90 TTFT %s, above %s", c.P90TTFT.Round(time.Millisecond), e.MaxP90TTFT))
	}
	inconclusive := ""
	if e.NothingLost {
		f, inc := nothingLost(ctx, reconcile, records)
		fails = append(fails, f...)
		inconclusive = inc
	}
	// A latency bound on the served requests says nothing of too few of them. Forbidden servers
	// are another matter: a request refused went nowhere it must not, so a policy is kept by
	// refusals too (the PASS message counts how many were served).
	servedBound := e.MaxP90TTFT > 0
	switch {
	case len(fails) > 0:
		return Result{Verdict: Fail, Message: fmt.Sprintf("%s: %s", who, strings.Join(fails, "; "))}
	case inconclusive == invalidNoIDs:
		return Result{Verdict: Invalid, Message: fmt.Sprintf("%s: none of %d requests carries a request id to look up in the evidence", who, c.Requests)}
	case servedBound && c.Served < minN:
		return Result{Verdict: Invalid, Message: fmt.Sprintf("only %d of %d requests of %s served (need %d to judge the served ones)", c.Served, c.Requests, who, minN)}
	case inconclusive != "":
		return Result{Verdict: Inconclusive, Message: fmt.Sprintf("%s: %s", who, inconclusive)}
	}
	msg := fmt.Sprintf("%s: %d requests, %d served (%s)", who, c.Requests, c.Served, outcomesText(c.Outcomes))
	if e.NothingLost {
		msg += fmt.Sprintf("; %d looked up in the evidence, one record each", len(reconcile))
	}
	return Result{Verdict: Pass, Message: msg}
}

// allowed reports whether outcome key "class/reason" (or "indeterminate") is in the list, as the
// class alone or with its reason.
func allowed(list []string, key string) bool {
	class, _, _ := strings.Cut(key, "/")
	return slices.Contains(list, key) || slices.Contains(list, class) || slices.Contains(list, strings.TrimSuffix(key, "/"))
}

// forbiddenIn returns the forbidden value servedBy (outcome.ServedBy's String: "region=…; pool=…")
// names, as a whole or as one of its values; empty when none.
func forbiddenIn(forbidden []string, servedBy string) string {
	for _, f := range forbidden {
		if f == servedBy {
			return f
		}
		for part := range strings.SplitSeq(servedBy, "; ") {
			if _, v, ok := strings.Cut(part, "="); ok && v == f {
				return f
			}
		}
	}
	return ""
}

// invalidNoIDs is what nothingLost says when there was nothing to reconcile.
const invalidNoIDs = "no request ids"

// nothingLost reconciles every entry against the evidence, as the certified evidence-outage spec
// (suites/resilience_deps.go) does: each request the runtime gave an id, answered (served or
// refused: the reference records a refusal too) or indeterminate, must have exactly one evidence
// record; none is lost, more than one duplicated. Reconciling only the indeterminate ones would
// pass a runtime that drops every record while answering every request. Indeterminate entries
// without an id cannot be judged (inconclusive); with no id at all there is nothing to judge.
func nothingLost(ctx context.Context, entries []ledger.Entry, records func(context.Context, string) (int, error)) (fails []string, inconclusive string) {
	if records == nil {
		return nil, fmt.Sprintf("%d requests to reconcile and no evidence records to reconcile them against", len(entries))
	}
	var lost, dup, unresolvable []string
	looked := 0
	for _, x := range entries {
		if x.RequestID == "" {
			if x.Indeterminate {
				unresolvable = append(unresolvable, fmt.Sprintf("#%d", x.Seq))
			}
			continue
		}
		n, err := records(ctx, x.RequestID)
		if err != nil {
			return nil, fmt.Sprintf("looking up %s: %v", x.RequestID, err)
		}
		looked++
		switch {
		case n == 0:
			lost = append(lost, fmt.Sprintf("#%d", x.Seq))
		case n > 1:
			dup = append(dup, fmt.Sprintf("#%d", x.Seq))
		}
	}
	if looked == 0 && len(unresolvable) == 0 {
		return nil, invalidNoIDs
	}
	if len(lost) > 0 {
		fails = append(fails, fmt.Sprintf("%d %s (%s)", len(lost), ledger.Lost, idList(lost)))
	}
	if len(dup) > 0 {
		fails = append(fails, fmt.Sprintf("%d %s (%s)", len(dup), ledger.Duplicated, idList(dup)))
	}
	if len(unresolvable) > 0 {
		inconclusive = fmt.Sprintf("%d indeterminate requests carry no request id to look up (%s)", len(unresolvable), idList(unresolvable))
	}
	return fails, inconclusive
}

// idListMax is how many request numbers a message names before it says how many more.
const idListMax = 20

// idList joins request numbers, the first idListMax of them.
func idList(ids []string) string {
	if len(ids) <= idListMax {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:idListMax], ", "), len(ids)-idListMax)
}
