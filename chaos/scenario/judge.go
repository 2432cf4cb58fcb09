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

// judge judges every phase's expectations on the requests that started in it.
func (r *runner) judge(ctx context.Context) []ExpectRecord {
	var out []ExpectRecord
	for i, ph := range r.plan.Phases {
		for _, e := range ph.Expect {
			c := r.rec.phases[i].Of(e.Tenant, e.Class)
			var indet []ledger.Entry
			for _, x := range r.rec.indeterminate(i) {
				if (e.Tenant == "" || x.Tenant == e.Tenant) && (e.Class == "" || x.Class == e.Class) {
					indet = append(indet, x)
				}
			}
			out = append(out, ExpectRecord{Phase: ph.Name, Expectation: e, Samples: c.Requests,
				Result: Judge(ctx, e, c, indet, r.env.Records)})
		}
	}
	return out
}

// Judge judges one expectation on the counts of the requests it covers and their indeterminate
// entries; records resolves those against the runtime's evidence (nil leaves a NothingLost
// expectation INCONCLUSIVE). It is pure but for records, so a game-day report can re-judge a
// stored ledger.
func Judge(ctx context.Context, e Expectation, c Counts, indeterminate []ledger.Entry, records func(context.Context, string) (int, error)) Result {
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
		f, inc := nothingLost(ctx, indeterminate, records)
		fails = append(fails, f...)
		inconclusive = inc
	}
	switch {
	case len(fails) > 0:
		return Result{Verdict: Fail, Message: fmt.Sprintf("%s: %s", who, strings.Join(fails, "; "))}
	case inconclusive != "":
		return Result{Verdict: Inconclusive, Message: fmt.Sprintf("%s: %s", who, inconclusive)}
	}
	return Result{Verdict: Pass, Message: fmt.Sprintf("%s: %d requests, %d served (%s)", who, c.Requests, c.Served, outcomesText(c.Outcomes))}
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

// nothingLost resolves the indeterminate entries against the evidence: lost or duplicated ones
// fail; without evidence, or with entries that carry no request id, it cannot be judged.
func nothingLost(ctx context.Context, indeterminate []ledger.Entry, records func(context.Context, string) (int, error)) (fails []string, inconclusive string) {
	if records == nil {
		return nil, fmt.Sprintf("%d indeterminate requests and no evidence records to reconcile them against", len(indeterminate))
	}
	var lookupErr error
	resolved := ledger.Reconcile(indeterminate, func(id string) int {
		n, err := records(ctx, id)
		if err != nil && lookupErr == nil {
			lookupErr = fmt.Errorf("looking up %s: %w", id, err)
		}
		return n
	})
	if lookupErr != nil {
		return nil, lookupErr.Error()
	}
	by := map[ledger.Resolution][]string{}
	for _, x := range resolved {
		by[x.Resolution] = append(by[x.Resolution], fmt.Sprintf("#%d", x.Entry.Seq))
	}
	for _, res := range []ledger.Resolution{ledger.Lost, ledger.Duplicated} {
		if ids := by[res]; len(ids) > 0 {
			fails = append(fails, fmt.Sprintf("%d %s (%s)", len(ids), res, strings.Join(ids, ", ")))
		}
	}
	if ids := by[ledger.Unresolvable]; len(ids) > 0 {
		inconclusive = fmt.Sprintf("%d indeterminate requests carry no request id to look up (%s)", len(ids), strings.Join(ids, ", "))
	}
	return fails, inconclusive
}
