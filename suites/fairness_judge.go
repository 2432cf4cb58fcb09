package suites

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/checks"
	"github.com/aruntime/arcert/conformance/target"
)

// judgeNoisyFlood is ADM-7's validity gate on tenant A's flood: it must have filled the runtime
// (A shed for a full queue or capacity, and A's served work at least half the declared
// concurrency at once, as ADM-4 asks of its flood), and every one of its outcomes must arrive in
// time. It reports false, having said why, when the run proves nothing.
func judgeNoisyFlood(t *target.Target, k target.TrafficClass, a target.Tenant, flood *loadRun) bool {
	served := chaosledger.Where(flood.entries, servedOK)
	full := chaosledger.Where(flood.entries, func(e chaosledger.Entry) bool {
		return e.Outcome == outcome.Shed && (e.Reason == outcome.ReasonQueueFull || e.Reason == outcome.ReasonCapacity)
	})
	peak := checks.MaxOverlap(intervals(served))
	evidence("%s flooded %s with %d requests in %s (%s): %d served (peak %d in flight, declared concurrency %d), %d shed for a full queue or capacity",
		a.Name, k.Name, len(flood.entries), flood.stats.Elapsed.Round(time.Millisecond), byWire(flood.entries),
		len(served), peak, t.Capacity.Concurrency, len(full))
	if peak < t.Capacity.Concurrency/2 || len(full) == 0 {
		invalid("%s's flood never filled the runtime (peak %d in flight, %d shed for a full queue)", a.Name, peak, len(full))
		return false
	}
	late := judgeLateness(flood.entries, k)
	mustHold(late.ok(), "%s's flood: outcomes arrived past the class deadline of %s plus %s: %s", a.Name, k.Deadline, deadlineTolerance, late)
	return true
}

// judgeQuietTenant is ADM-7's verdict on tenant B's probes.
func judgeQuietTenant(k target.TrafficClass, a, b target.Tenant, samples []chaosledger.Entry) {
	var ttfts []time.Duration
	perPath := map[string]int{}
	refusals := map[string]int{} // B's refusals not for its own quota, by outcome/reason
	quota, late, lost := 0, 0, 0
	for _, s := range samples {
		switch {
		case !answered(s) || s.Outcome == "":
			lost++
			continue
		case s.Latency() > k.Deadline+deadlineTolerance:
			late++
		}
		switch {
		case s.Outcome.Served():
			ttfts = append(ttfts, s.TTFT)
			perPath[s.Path]++
		case quotaRefusal(s.Outcome, s.Reason):
			quota++
		default:
			refusals[fmt.Sprintf("%s/%s over %s", s.Outcome, s.Reason, s.Path)]++
		}
	}
	bound, ok := checks.QuantileUpperBound(ttfts, ttftQuantile, ttftAlpha)
	bound = bound.Round(100 * time.Microsecond)
	evidence("%d %s probes of %s (%d over HTTP, %d over gRPC served) while %s flooded it: %d served, %d refused for %s's own quota, other refusals: %s; TTFT p50 %s, p90 %s, p90 upper bound %s (objective %s)",
		len(samples), b.Name, k.Name, perPath["http"], perPath["grpc"], a.Name, len(ttfts), quota, b.Name, describeCounts(refusals),
		checks.Quantile(ttfts, 0.5), checks.Quantile(ttfts, ttftQuantile), bound, k.TTFT)
	mustHold(lost == 0 && late == 0, "%d of %s's %d probes reached no outcome and %d arrived past the class deadline of %s plus %s while %s flooded the class",
		lost, b.Name, len(samples), late, k.Deadline, deadlineTolerance, a.Name)
	mustHold(len(refusals) == 0, "%s, far inside its own quota, was refused while %s flooded class %s: %s",
		b.Name, a.Name, k.Name, describeCounts(refusals))
	if !ok || len(ttfts) < minProbes {
		invalid("%d served probes of %s are too few to bound a p90", len(ttfts), b.Name)
		return
	}
	mustHold(float64(len(ttfts)) >= minFairServed*float64(len(samples)),
		"only %d of %s's %d probes were served while %s flooded class %s, below %.0f %%", len(ttfts), b.Name, len(samples), a.Name, k.Name, 100*minFairServed)
	mustHold(bound <= k.TTFT, "%s's TTFT p90 (upper bound %s) exceeds class %s's objective %s while %s floods it",
		b.Name, bound, k.Name, k.TTFT, a.Name)
	for path, n := range perPath {
		judged(path, n)
	}
}

// describeCounts lists counts as "3 × shed/queue_full, 1 × …", most frequent first; "none" when
// empty.
func describeCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || (m[keys[i]] == m[keys[j]] && keys[i] < keys[j]) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d × %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}
