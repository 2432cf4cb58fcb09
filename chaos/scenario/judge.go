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
			var audit []ledger.Entry
			for _, x := range r.rec.auditedEntries(i) {
				if (e.Tenant == "" || x.Tenant == e.Tenant) && (e.Class == "" || x.Class == e.Class) {
					audit = append(audit, x)
				}
			}
			out = append(out, ExpectRecord{Phase: ph.Name, Expectation: e, Samples: c.Requests,
				Result: Judge(ctx, e, c, audit, records)})
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

// Judge judges one expectation on the counts of the requests it covers and the entries a
// nothing-lost expectation reconciles (the indeterminate ones, and the served ones of a phase it
// audits); records counts the runtime's evidence records of a request id (nil leaves a
// NothingLost expectation INCONCLUSIVE). It is pure but for records, so a game-day report can
// re-judge a stored ledger.
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
	switch {
	case len(fails) > 0:
		return Result{Verdict: Fail, Message: fmt.Sprintf("%s: %s", who, strings.Join(fails, "; "))}
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

// nothingLost looks every entry up in the evidence: a served request must have exactly one record,
// and an indeterminate one resolves as ledger.Reconcile says; lost or duplicated ones fail.
// Without evidence, or with indeterminate entries that carry no request id, it cannot be judged.
func nothingLost(ctx context.Context, entries []ledger.Entry, records func(context.Context, string) (int, error)) (fails []string, inconclusive string) {
	if records == nil {
		return nil, fmt.Sprintf("%d requests to reconcile and no evidence records to reconcile them against", len(entries))
	}
	var lookupErr error
	count := func(id string) int {
		if lookupErr != nil {
			return 1 // the lookups have failed: the verdict is inconclusive whatever this says
		}
		n, err := records(ctx, id)
		if err != nil {
			lookupErr = fmt.Errorf("looking up %s: %w", id, err)
		}
		return n
	}
	entries = append([]ledger.Entry(nil), entries...)
	sortBySeq(entries)
	by := map[ledger.Resolution][]string{}
	var indeterminate []ledger.Entry
	for _, x := range entries {
		if x.Indeterminate {
			indeterminate = append(indeterminate, x)
			continue
		}
		switch n := count(x.RequestID); {
		case n == 0:
			by[ledger.Lost] = append(by[ledger.Lost], fmt.Sprintf("#%d", x.Seq))
		case n > 1:
			by[ledger.Duplicated] = append(by[ledger.Duplicated], fmt.Sprintf("#%d", x.Seq))
		}
	}
	for _, x := range ledger.Reconcile(indeterminate, count) {
		by[x.Resolution] = append(by[x.Resolution], fmt.Sprintf("#%d", x.Entry.Seq))
	}
	if lookupErr != nil {
		return nil, lookupErr.Error()
	}
	for _, res := range []ledger.Resolution{ledger.Lost, ledger.Duplicated} {
		if ids := by[res]; len(ids) > 0 {
			fails = append(fails, fmt.Sprintf("%d %s (%s)", len(ids), res, seqList(ids)))
		}
	}
	if ids := by[ledger.Unresolvable]; len(ids) > 0 {
		inconclusive = fmt.Sprintf("%d indeterminate requests carry no request id to look up (%s)", len(ids), seqList(ids))
	}
	return fails, inconclusive
}

// seqListMax is how many request numbers a verdict names before it only counts the rest.
const seqListMax = 10

// seqList joins request numbers, the first seqListMax of them.
func seqList(ids []string) string {
	if len(ids) <= seqListMax {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:seqListMax], ", "), len(ids)-seqListMax)
}
