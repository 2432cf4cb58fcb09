package suites

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/checks"
	"github.com/aruntime/arcert/conformance/target"
)

// The overload run: open-loop Poisson arrivals at overloadFactor times the declared capacity for
// overloadDuration, spread evenly over every declared traffic class (a bug often lives in the
// class the spec does not load) and over tenants whose quotas carry it, each request on a route
// drawn from overloadWays (chat plain and streamed, legacy completions, and gRPC when the target
// has it: a route whose handler forgot the bound or the retry hint is loaded too). Its ledger is
// judged per class by ADM-1, ADM-2, ADM-3 and OUT-4, and each judged sample is also counted on
// its route. A gRPC call has no wire trace, so ADM-1 counts it in flight from the harness's send
// to its status, as it counts an HTTP stream to its last byte: the longer reading, never the
// shorter.
const (
	overloadFactor   = 4
	overloadDuration = 2500 * time.Millisecond
	// maxShedP99 is ADM-2's bound on time-to-shed.
	maxShedP99 = 50 * time.Millisecond
	// minShed is how many shed responses of one class make its time-to-shed percentile meaningful.
	minShed = 50
	// boundSlack allows for client-side timing: a response in transit still looks in flight.
	boundSlack = 1.1
	// maxGeneratorLag is how late the generator may fall behind its schedule before the load it
	// offered is no longer the load it claims (a validity gate).
	maxGeneratorLag = 250 * time.Millisecond
	// minGoodputFraction is ADM-3's share of declared capacity that must be completed.
	minGoodputFraction = 0.9
)

var _ = Describe("Admission under overload", Ordered, ContinueOnFailure, func() {
	var (
		run      *loadRun
		wire     map[int]wireTimes // by Seq: when each request left and its answer began
		gauges   gaugeReading      // the runtime's own count of its work in flight, if it publishes one
		gate     string            // why the run is not valid, "" when it is
		classes  []target.TrafficClass
		rate     float64
		duration time.Duration
	)

	BeforeAll(func(ctx SpecContext) {
		t := env.Target
		rate = overloadFactor * t.Capacity.RequestsPerSecond
		inFlight := t.Capacity.Concurrency
		for _, k := range t.TrafficClasses {
			inFlight += k.QueueBound
		}
		// Each class's tenants must carry the whole load, so that admission, not a tenant's own
		// quota or concurrency, is what every request meets.
		keys := map[string][]string{}
		for _, k := range t.TrafficClasses {
			if ks, ok := loadKeysOver(classTenants(k.Name), rate, inFlight); ok {
				keys[k.Name] = ks
				classes = append(classes, k)
			}
		}
		if len(classes) == 0 {
			gate = "no set of declared tenants has the quota to carry the overload test's load in any traffic class"
			return
		}
		r := rng(5)
		ways := overloadWays()
		waits := env.HTTP.ConnectionWaits()
		gauges = gaugesRun(ctx, func() {
			run, wire = tracedOpenLoop(ctx, "overload", env.Seed, rate, overloadDuration, func(i int) request {
				k := classes[i%len(classes)]
				ks := keys[k.Name]
				way := ways[r.IntN(len(ways))]
				return request{key: ks[(i/len(classes))%len(ks)], class: k.Name, way: way, grpc: way.path == viaGRPC,
					body: probe(prompt(r, 8), t.Capacity.ProbeMaxTokens, way.stream)}
			})
		})
		duration = run.stats.Elapsed
		switch {
		case run.stats.Err != nil:
			gate = run.stats.Err.Error()
		case run.stats.MaxLag > maxGeneratorLag:
			gate = "the load generator fell " + run.stats.MaxLag.String() + " behind its schedule"
		case env.HTTP.ConnectionWaits() > waits:
			gate = harnessHeld(env.HTTP.ConnectionWaits()-waits, env.HTTP.ConnectionBound())
		case float64(run.stats.Sent) < 0.9*rate*overloadDuration.Seconds():
			gate = "too few requests were offered"
		}
		evidence("offered %d requests at %.0f/s (%dx the declared %.0f/s) over %d traffic classes in %s, generator lag %s",
			run.stats.Sent, rate, overloadFactor, t.Capacity.RequestsPerSecond, len(classes), duration.Round(time.Millisecond), run.stats.MaxLag)
	}, NodeTimeout(overloadDuration+2*time.Minute))

	// unloaded names the declared classes the run could not load, and gRPC when the target has
	// no gRPC endpoint (the run then draws HTTP routes only).
	unloaded := func() {
		for _, k := range env.Target.TrafficClasses {
			if _, ok := declaredIn(classes, k.Name); !ok {
				notProbed("class:"+k.Name, "no set of the tenants that may use it has the quota to carry the overload")
			}
		}
		if env.GRPC == nil {
			notProbed(viaGRPC, "the target declares no gRPC endpoint")
		}
	}

	It("keeps admitted work within the declared concurrency plus queue bound, and in time", Req("ADM-1"), func() {
		if gate != "" {
			invalid("%s", gate)
			return
		}
		unloaded()
		var unjudged []string // why each class that was not judged could not be
		var within []string   // each judged class's peak against its bound, for the conclusion
		var doubtful []string // classes over the bound by the client's count only, not the runtime's gauges
		evidence("%s", gauges)
		for _, k := range classes {
			shots := ofClass(run.entries, k.Name)
			admitted := admittedOf(shots)
			bound := env.Target.Capacity.Concurrency + k.QueueBound
			windows, untimed := admittedWindows(admitted, wire)
			peak := checks.MaxOverlap(windows)
			late := judgeLateness(shots, k)
			shed := len(withOutcome(shots, outcome.Shed))
			completed := len(withOutcome(shots, outcome.Completed))
			plotInFlight(k.Name, runOrigin(run.entries), asWindows(admitted, wire), bound)
			evidence("%s: peak admitted in flight %d (counted from each request's last byte sent to its answer: the first byte of a plain answer, the last of a stream, a gRPC call's status; %d counted from the harness's send to the last byte read), declared bound %d (concurrency %d + queue %d); %d sent: %d completed, %d shed, %d timed out, %d rejected, %d other; slowest outcome %s against a deadline of %s",
				k.Name, peak, sendWindowPeak(admitted), bound, env.Target.Capacity.Concurrency, k.QueueBound, len(shots), completed, shed,
				len(withOutcome(shots, outcome.TimedOut)), len(withOutcome(shots, outcome.Rejected)), len(shots)-len(admitted)-shed-len(withOutcome(shots, outcome.Rejected)),
				late.worst.Round(time.Millisecond), k.Deadline)
			mustHold(late.ok(), "%s: outcomes arrived past the class deadline of %s plus %s: %s", k.Name, k.Deadline, deadlineTolerance, late)
			switch {
			case len(admitted) == 0:
				unjudged = append(unjudged, fmt.Sprintf("%s: none of %d requests was admitted and answered (served, or timed out once admitted), so nothing was in flight to count", k.Name, len(shots)))
				continue
			case untimed > 0:
				unjudged = append(unjudged, fmt.Sprintf("%s: %d admitted requests carry no usable send and end times", k.Name, untimed))
				continue
			}
			if float64(peak) > boundSlack*float64(bound)+2 {
				if gauges.read() && gauges.peakFor(k.Name) <= float64(bound) {
					// The client saw more overlap than the runtime says it ever held, across every
					// class: the difference is the client's own path, or a peak between samples.
					// Keep going: a later class with a clear excess still fails the requirement.
					doubtful = append(doubtful, fmt.Sprintf("%s: the client saw %d admitted requests in flight against a bound of %d, but %s; the excess may be the client's path, not the runtime's queue", k.Name, peak, bound, gauges))
					continue
				}
				Fail(fmt.Sprintf("%s: admitted work in flight reached %d, above the declared bound of %d: the queue is not bounded as declared (%s)", k.Name, peak, bound, gauges))
			}
			if shed == 0 {
				notProbed("class:"+k.Name, "the overload never filled its queue (nothing was shed), so its bound was not reached")
				unjudged = append(unjudged, fmt.Sprintf("%s: nothing was shed, so the bound was never reached", k.Name))
				continue
			}
			judged("class:"+k.Name, late.judged) // the bound is judged on the admitted, the deadlines on every request
			within = append(within, fmt.Sprintf("%s %d of %d", k.Name, peak, bound))
		}
		if len(doubtful) > 0 {
			inconclusive("%s", strings.Join(doubtful, "; "))
			return
		}
		if len(unjudged) == len(classes) {
			invalid("no traffic class could be judged: %s", strings.Join(unjudged, "; "))
			return
		}
		evidence("admitted work in flight within the declared bound (peak of bound, %.0f %% slack for the client's timing): %s", 100*(boundSlack-1), strings.Join(within, ", "))
	})

	It("sheds excess work fast", Req("ADM-2"), func() {
		if gate != "" {
			invalid("%s", gate)
			return
		}
		unloaded()
		var slow []string // every class over the bound, judged before any verdict
		for _, k := range classes {
			shed := withOutcome(ofClass(run.entries, k.Name), outcome.Shed)
			if len(shed) < minShed {
				invalid("only %d %s responses were shed at %dx capacity; at least %d are needed to judge a p99", len(shed), k.Name, overloadFactor, minShed)
				return
			}
			p99 := checks.Quantile(latencies(shed), 0.99)
			plotShed(k.Name, runOrigin(run.entries), shed, maxShedP99)
			evidence("%s: %d shed (%s), time-to-shed p50 %s, p99 %s (bound %s)", k.Name, len(shed), byWire(shed), checks.Quantile(latencies(shed), 0.5), p99, maxShedP99)
			if p99 > maxShedP99 {
				slow = append(slow, fmt.Sprintf("%s %s", k.Name, p99.Round(time.Millisecond)))
			}
			judged("class:"+k.Name, len(shed))
			judgedByPath(shed)
		}
		mustHold(len(slow) == 0, "excess work waited before it was shed, p99 over %s: %s", maxShedP99, strings.Join(slow, ", "))
	})

	It("keeps goodput near the declared capacity", Req("ADM-3"), func() {
		if gate != "" {
			invalid("%s", gate)
			return
		}
		unloaded()
		// Completed work is work delivered: a served answer with content, placed in time. An answer
		// that claims completion and carries nothing is not goodput.
		done := chaosledger.Where(run.entries, func(e chaosledger.Entry) bool { return servedOK(e) && e.Tokens > 0 && timed(e) })
		claimed := len(chaosledger.Where(run.entries, servedOK))
		if len(done) == 0 {
			Fail(fmt.Sprintf("nothing was completed under overload: of %d requests, %d were answered as served and none of those carried content", len(run.entries), claimed))
		}
		first, last := done[0].Start, done[0].End
		for _, e := range done {
			if e.End.After(last) {
				last = e.End
			}
			if e.Start.Before(first) {
				first = e.Start
			}
		}
		span := last.Sub(first)
		if span <= 0 {
			invalid("the %d completions of the overload span no time (first sent %s, last answered %s): the harness could not time them", len(done), first.Format(time.StampMicro), last.Format(time.StampMicro))
			return
		}
		goodput := float64(len(done)) / span.Seconds()
		evidence("goodput %.1f req/s: %d completions with content over %s, declared capacity %.1f req/s (%d answers claimed served)", goodput, len(done), span.Round(time.Millisecond), env.Target.Capacity.RequestsPerSecond, claimed)
		mustHold(goodput >= minGoodputFraction*env.Target.Capacity.RequestsPerSecond,
			"under overload the runtime completed %.1f requests a second, below %.0f %% of the declared %.1f", goodput, 100*minGoodputFraction, env.Target.Capacity.RequestsPerSecond)
		for _, k := range classes {
			judged("class:"+k.Name, len(chaosledger.Where(ofClass(done, k.Name), servedOK)))
		}
	})

	It("tells shed clients when to come back", Req("OUT-4"), func() {
		if gate != "" {
			invalid("%s", gate)
			return
		}
		unloaded()
		if len(withOutcome(run.entries, outcome.Shed)) == 0 {
			invalid("nothing was shed in any traffic class at %dx capacity (%s), so no Retry-After could be judged", overloadFactor, scenario.CountsText(run.entries))
			return
		}
		for _, k := range classes {
			shed := withOutcome(ofClass(run.entries, k.Name), outcome.Shed)
			if len(shed) == 0 {
				notProbed("class:"+k.Name, "nothing of this class was shed at %dx capacity", overloadFactor)
				continue
			}
			for _, e := range shed {
				mustHold(e.RetryAfter > 0, "a shed %s response over %s carried no usable retry delay (%s): %s", k.Name, e.Path, retryHintName(e.Path), describeEntry(e))
			}
			evidence("%s: all %d shed responses carried a retry delay, Retry-After over HTTP and RetryInfo over gRPC (%s)", k.Name, len(shed), byWire(shed))
			judged("class:"+k.Name, len(shed))
			judgedByPath(shed)
		}
	})
})

// declaredIn finds the class called name in ks.
func declaredIn(ks []target.TrafficClass, name string) (target.TrafficClass, bool) {
	for _, k := range ks {
		if k.Name == name {
			return k, true
		}
	}
	return target.TrafficClass{}, false
}
