package suites

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/checks"
)

// The long-context run: tenant A sends lcBurstCount bursts of prompts near the model's context
// limit, one every lcBurstEvery, each burst lcBurstShare of the declared concurrency at once (the
// tenants that can carry a burst take turns as A), while the other tenants send short streamed
// probes of the first class at lcProbeRate over HTTP and gRPC. B is judged as ADM-4 judges its
// protected class: the 95 % upper bound on its p90 TTFT within the class objective, every probe
// served, every outcome within the class deadline plus deadlineTolerance. How the runtime keeps
// a long prefill from stalling a short request (chunked prefill, a prefill budget per step,
// separate prefill workers) is its business.
const (
	lcBurstCount = 3
	lcBurstEvery = 800 * time.Millisecond
	lcBurstShare = 0.5
	// lcContextShare is how much of the context (less the output) a long prompt fills; a served
	// long prompt counts only if its prompt_tokens reach lcNearShare of the context.
	lcContextShare = 0.9
	lcNearShare    = 0.75
	// lcLongMaxTokens keeps A's long requests to their prefill: their cost is the prompt.
	lcLongMaxTokens = 4
	// lcProbeLead lets the first burst reach the runtime before the probes start; the probes run
	// for the bursts' whole schedule.
	lcProbeLead   = 100 * time.Millisecond
	lcProbeWindow = lcBurstCount*lcBurstEvery - lcProbeLead
	lcProbeWords  = 8
	lcProbeTokens = 2
	// lcProbeRate gives about 57 probes in lcProbeWindow, 29 a path: at ADM-4's probeRate a
	// Poisson count would leave a path under lcMinPerPath for some seeds.
	lcProbeRate = 25.0
	// lcMinPerPath is the fewest served probes a path needs to count as probed; lcMinOverlap is
	// the share of probes that must have been in flight together with a served long prompt.
	lcMinPerPath = 15
	lcMinOverlap = 0.6
	// lcMinLongShare is the share of the long prompts that must be served, else the burst did
	// not really reach the engine.
	lcMinLongShare = 0.8
	// lcReportQuantile is reported, not judged: the tail a benchmark compares.
	lcReportQuantile = 0.99
)

var _ = Describe("Long-context bursts", Serial, func() {
	It("keeps another tenant's short interactive requests within their TTFT objective while one tenant bursts prompts near the context limit", Req("ADM-8"), func(ctx SpecContext) {
		t := env.Target
		if len(t.TrafficClasses) == 0 || t.TrafficClasses[0].TTFT == 0 {
			invalid("the target declares no first traffic class with a TTFT objective")
			return
		}
		class := t.TrafficClasses[0]
		size := max(1, int(lcBurstShare*float64(t.Capacity.Concurrency)))
		longTokens := int(lcContextShare * float64(model().ContextLength-lcLongMaxTokens))
		bursters, probers := lcTenants(class.Name, size, longTokens)
		if len(bursters) == 0 || len(probers) < 2 {
			invalid("%d tenants of class %s can carry a burst of %d prompts of %d tokens and %d can carry %.0f probes/s; the check needs one and two", len(bursters), class.Name, size, longTokens, len(probers), lcProbeRate)
			return
		}
		words := int(float64(longTokens) / tokensPerWord(ctx, bursters[0].Key))
		r := rng(0xad80)
		long := make([]string, lcBurstCount*size)
		for i := range long {
			long[i] = prompt(r, words)
		}

		l := &lcLedger{}
		var mu sync.Mutex
		current := ""
		var wg sync.WaitGroup
		wg.Go(func() {
			lcBursts(ctx, l, bursters, class.Name, size, long, func(i int) {
				mu.Lock()
				current = lcBurster(bursters, i).Name
				mu.Unlock()
			})
		})
		time.Sleep(lcProbeLead) // a schedule, as ADM-4's flood lead: the engine's fill is not observable
		lcProbes(ctx, l, probers, class.Name, lcProbeWindow, func() string { mu.Lock(); defer mu.Unlock(); return current })
		wg.Wait()
		lcJudge(l, class.Name, longTokens)
	}, SpecTimeout(time.Minute))
})

// lcJudge gives the verdict of a long-context run: validity gates first (the long prompts were
// near the context, served and in flight during the probes; enough probes on each path), then B's
// TTFT bound, refusals and lateness.
func lcJudge(l *lcLedger, className string, longTokens int) {
	k, _ := declaredIn(env.Target.TrafficClasses, className)
	long, probes := l.long.Entries(), l.probes.Entries()
	minPrompt := int(lcNearShare * float64(model().ContextLength))
	longServed := chaosledger.Where(long, func(e chaosledger.Entry) bool { return servedOK(e) && e.PromptTokens >= minPrompt })
	longIv := intervals(longServed)
	longPaths := map[string]int{}
	for _, e := range longServed {
		longPaths[e.Path]++
	}
	var ttfts []time.Duration
	perPath := map[string]int{}
	pairs := map[string]bool{}
	failed, overlapped := 0, 0
	var refusals []string
	for _, e := range probes {
		if lcOverlaps(e.Start, e.End, longIv) {
			overlapped++
		}
		if !servedOK(e) {
			failed++
			if len(refusals) < 3 {
				refusals = append(refusals, lcDescribe(e))
			}
			continue
		}
		ttfts = append(ttfts, e.TTFT)
		perPath[e.Path]++
		pairs[l.burster(e.Seq)+"→"+e.Tenant] = true
	}
	bound, ok := checks.QuantileUpperBound(ttfts, ttftQuantile, ttftAlpha)
	bound = bound.Round(100 * time.Microsecond)
	evidence("%d of %d long prompts (%d tokens asked, at least %d needed) served near the context limit (%d as HTTP streams, %d plain HTTP, %d over gRPC); %d %s probes (%d not served, %d over HTTP streams and %d over gRPC served, %d in flight during a long prompt) from tenant pairs (A→B) %s: TTFT p50 %s, p90 %s, p99 %s, p90 upper bound %s (objective %s)",
		len(longServed), len(long), longTokens, minPrompt, longPaths[lcPathHTTPStream], longPaths[lcPathHTTP], longPaths[lcPathGRPC], len(probes), className, failed, perPath[lcPathHTTPStream], perPath[lcPathGRPC], overlapped,
		lcPairs(pairs), checks.Quantile(ttfts, 0.5), checks.Quantile(ttfts, ttftQuantile), checks.Quantile(ttfts, lcReportQuantile), bound, k.TTFT)
	mustHold(failed == 0, "%d of %d short %s probes were not served while another tenant burst long prompts: %s", failed, len(probes), className, strings.Join(refusals, "; "))
	switch {
	case float64(len(longServed)) < lcMinLongShare*float64(len(long)):
		invalid("only %d of %d long prompts were served with at least %d prompt tokens: the burst never really reached the engine", len(longServed), len(long), minPrompt)
		return
	case float64(overlapped) < lcMinOverlap*float64(len(probes)):
		invalid("only %d of %d probes were in flight while a long prompt was", overlapped, len(probes))
		return
	case !ok || len(ttfts) < minProbes:
		invalid("%d served probes are too few to bound a p90", len(ttfts))
		return
	}
	mustHold(bound <= k.TTFT, "short %s requests waited %s (p90 upper bound) for their first token while another tenant burst prompts near the context limit, beyond the objective %s", className, bound, k.TTFT)
	late := judgeLateness(slices.Concat(probes, long), k)
	mustHold(late.ok(), "%s: outcomes arrived past the class deadline of %s plus %s: %s", k.Name, k.Deadline, deadlineTolerance, late)
	for _, p := range []string{lcPathHTTPStream, lcPathGRPC} {
		switch {
		case p == lcPathGRPC && env.GRPC == nil:
			notProbed(p, "the target declares no gRPC address")
		case perPath[p] < lcMinPerPath:
			notProbed(p, "only %d probes were served over it (%d needed)", perPath[p], lcMinPerPath)
		default:
			judged(p, perPath[p])
		}
	}
}

// lcOverlaps reports whether [start, end] meets any of ivs.
func lcOverlaps(start, end time.Time, ivs []checks.Interval) bool {
	for _, iv := range ivs {
		if start.Before(iv.End) && iv.Start.Before(end) {
			return true
		}
	}
	return false
}

// lcPairs lists the tenant pairs, sorted.
func lcPairs(pairs map[string]bool) string {
	var out []string
	for p := range pairs {
		out = append(out, p)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// lcDescribe says how a probe ended, for people.
func lcDescribe(e chaosledger.Entry) string {
	if !answered(e) {
		return e.Path + " probe of " + e.Tenant + ": " + e.Error
	}
	return e.Path + " probe of " + e.Tenant + " ended " + string(e.Outcome) + "/" + string(e.Reason)
}
