package suites

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
)

// Load profile of the XID spec. Early streams (faultEarly, on HTTP and gRPC, a few plain HTTP
// requests among them) of faultTokens tokens run until the HTTP ones have streamed; then late
// streams with prompts of faultLateWords words arrive, whose prefill takes tens of milliseconds
// each, and faultLateLead later the XID lands: the victim then holds both work that has streamed
// and work that has sent nothing yet (queued or in prefill). afterProbes requests check that new
// work avoids the drained worker.
const (
	faultEarly     = 8
	faultEarlyHTTP = 2 // of faultEarly, plain (not streamed) HTTP requests
	faultLate      = 8
	faultTokens    = 48
	faultLateWords = 900 // about 1,500 tokens: under the target's disaggregation threshold
	faultLateLead  = 60 * time.Millisecond
	faultStreamed  = 2 * time.Second // bound on the early HTTP streams' first tokens
	afterProbes    = 16
	faultXID       = 79 // "GPU has fallen off the bus": the device is gone until reset
	faultRounds    = 3  // rounds tried for a fault that catches work that has sent nothing
	// cutSkew is how much later than the hook's reply a stream the victim finished before the cut
	// may still reach us: the two replies travel different connections. A stream the victim kept
	// serving past the cut runs on for most of its faultTokens, far longer than this.
	cutSkew = 50 * time.Millisecond
	// faultDeadlineTolerance is how late after its class deadline an in-flight request's outcome
	// may arrive: the client's and the runtime's clocks start a connection apart.
	faultDeadlineTolerance = 250 * time.Millisecond
)

// victim is a healthy serving worker in tenant A's allowed regions that has a healthy peer there,
// so its work has somewhere to go; "" when the runtime has no such pair.
func victim(ctx context.Context) string {
	allowed := tenantA().DataPolicy.AllowedRegions
	var ids []string
	for _, w := range versionsNow(ctx) {
		if w.Healthy && w.Role != "prefill" && slices.Contains(allowed, w.Region) {
			ids = append(ids, w.Worker)
		}
	}
	if len(ids) < 2 {
		return ""
	}
	return ids[0]
}

var _ = Describe("Device faults", Serial, func() {
	It("drain the worker on every fault kind, move the work that had sent nothing and end streamed work worker_lost", Req("DEV-1"), func(ctx SpecContext) {
		DeferCleanup(clearDevices)
		if !devicesSteady(ctx) {
			return
		}
		id := victim(ctx)
		if id == "" {
			invalid("tenant A's regions have fewer than two healthy serving workers: a drained worker's work has nowhere to go")
			return
		}
		explainClientPaths(false)
		r := rng(0xde1)
		var told []string
		for i, f := range deviceFaults {
			if i > 0 {
				clearDevices(ctx)
				back, tries := servedAgainBy(ctx, r, id)
				opsCheck(back, "worker %s served none of %d probes within %s of its device reset", id, tries, settle())
			}
			summary, ok := judgeDeviceFault(ctx, r, id, f, i == 0)
			if !ok {
				return
			}
			told = append(told, summary)
		}
		clearDevices(ctx)
		back, tries := servedAgainBy(ctx, r, id)
		opsCheck(back, "worker %s served none of %d probes within %s of its device reset", id, tries, settle())
		judged("reset", 1)
		evidence("%s; after the reset %s served probe %d", strings.Join(told, "; "), id, tries)
	}, SpecTimeout(time.Minute))
})

// deviceFault is one kind of device fault the spec injects: each drains the worker on its own.
type deviceFault struct {
	name  string
	event discovery.DeviceEvent
}

// deviceFaults are the faults DEV-1 injects, in turn: XID 79 (the GPU fell off the bus), XID 48
// (a double-bit ECC error reported as an XID) and an uncorrectable ECC event. The first also
// carries the check that work which had sent nothing is moved.
var deviceFaults = []deviceFault{
	{name: "xid-79", event: discovery.DeviceEvent{Kind: discovery.DeviceXID, XID: faultXID}},
	{name: "xid-48", event: discovery.DeviceEvent{Kind: discovery.DeviceXID, XID: 48}},
	{name: "ecc", event: discovery.DeviceEvent{Kind: discovery.DeviceECC}},
}

// judgeDeviceFault injects f on worker id with work in flight and judges it: every in-flight
// request, the drain and new work avoiding the worker. With moving it also requires that the
// fault cut work which had sent nothing (trying up to faultRounds rounds, else INVALID, and then
// ok is false). It returns a summary for the evidence.
func judgeDeviceFault(ctx context.Context, r *rand.Rand, id string, f deviceFault, moving bool) (summary string, ok bool) {
	var tally faultTally
	var cut int64
	unstartedCut, round := 0, 0
	// A round whose fault found only streamed work on the victim (the late requests reached it
	// after the fault) probed nothing about moving work; it is judged, and run again.
	for round = 1; round <= faultRounds; round++ {
		if round > 1 {
			clearDevices(ctx)
			back, tries := servedAgainBy(ctx, r, id)
			opsCheck(back, "worker %s served none of %d probes within %s of its device reset", id, tries, settle())
		}
		calls, results, after, hookReturned := xidRound(ctx, r, id, f.event)
		opsCheck(!after.Healthy, "worker %s still reports healthy after %s", id, f.name)
		if after.CutSequences == 0 {
			continue
		}
		tally = judgeFaultResults(calls, results, id, hookReturned)
		cut = after.CutSequences
		unstartedCut = int(after.CutSequences) - tally.lostStreamed - tally.lostPlain
		if !moving || unstartedCut > 0 {
			break
		}
	}
	switch {
	case cut == 0:
		invalid("in %d rounds, %s on %s cut no running sequence (the hook reports 0): the fault hit no in-flight work", faultRounds, f.name, id)
		return "", false
	case moving && unstartedCut < 1:
		invalid("in %d rounds, %s on %s never cut work that had sent nothing (the last cut %d sequences, all streamed): moving such work was not probed",
			faultRounds, f.name, id, cut)
		return "", false
	}
	if moving {
		judged("unstarted", unstartedCut)
	}
	judged("streamed", tally.lostStreamed)
	judged("fault:"+f.name, 1)

	opsPoll(ctx, settle(), 50*time.Millisecond, func() bool { return !workerHealthy(ctx, id) })
	opsCheck(!workerHealthy(ctx, id), "worker %s is not reported unhealthy within %s of %s", id, settle(), f.name)
	for i := range afterProbes {
		path := clientPaths()[i%len(clientPaths())]
		res := runFaultCall(ctx, faultCall{path: path, text: prompt(r, 8), tokens: 2}, nil)
		opsCheck(res.class.Served(), "%s probe %d after %s ended %s/%s", path, i, f.name, res.class, res.reason)
		opsCheck(res.worker != id, "%s probe %d after %s was served by the drained worker %s", path, i, f.name, id)
		judged("new-work", 1)
		judged(path, 1)
	}
	return fmt.Sprintf("%s on %s (round %d) cut %d sequences (%d had sent nothing): of %d in flight %d were served (%d late), %d streamed and %d plain ended worker_lost; %d new requests avoided it",
		f.name, id, round, cut, max(unstartedCut, 0), faultEarly+faultLate, tally.served, tally.lateServed, tally.lostStreamed, tally.lostPlain, afterProbes), true
}

// servedAgainBy probes until worker id serves one, within the target's settle bound, and says
// whether it did and after how many probes.
func servedAgainBy(ctx context.Context, r *rand.Rand, id string) (bool, int) {
	tries := 0
	back := opsPoll(ctx, settle(), 20*time.Millisecond, func() bool {
		tries++
		return runFaultCall(ctx, faultCall{path: opsHTTP, text: prompt(r, 8), tokens: 2}, nil).worker == id
	})
	return back, tries
}

// workerHealthy reports whether the versions endpoint lists worker id as healthy.
func workerHealthy(ctx context.Context, id string) bool {
	for _, w := range versionsNow(ctx) {
		if w.Worker == id {
			return w.Healthy
		}
	}
	return false
}

// firstOutput says when res's first output reached the client, relative to the cut.
func firstOutput(res faultResult, cut time.Time) string {
	if res.tokens == 0 {
		return "no output ever reached the client"
	}
	return fmt.Sprintf("its first output came %s after the fault", res.firstAt.Sub(cut).Round(time.Millisecond))
}

// faultTally counts how the in-flight requests of the XID spec ended.
type faultTally struct{ served, lateServed, lostStreamed, lostPlain int }

// judgeFaultResults checks every in-flight request: exactly one outcome of the contract, in time;
// none served by the victim past the cut; a streamed request whose first content had not come by
// the cut (plus cutSkew) never ended worker_lost (work that had sent nothing must be moved to
// another worker, and a token computed after the fault is no output), one that had streamed may.
// It records the samples per client path.
func judgeFaultResults(calls []faultCall, results []faultResult, victim string, cut time.Time) faultTally {
	var t faultTally
	deadline := classDeadline("", tenantA())
	for i, res := range results {
		c := calls[i]
		what := fmt.Sprintf("in-flight %s request %d (%s)", c.path, i, res.id)
		opsCheck(res.err == nil, "%s could not be exchanged: %v", what, res.err)
		opsCheck(res.class != "", "%s has no outcome", what)
		opsCheck(len(res.violations) == 0, "%s broke the contract: %s", what, strings.Join(res.violations, "; "))
		if deadline > 0 {
			opsCheck(res.latency <= deadline+faultDeadlineTolerance, "%s ended %s/%s after %s, past its class deadline %s and the %s tolerance",
				what, res.class, res.reason, res.latency.Round(time.Millisecond), deadline, faultDeadlineTolerance)
		}
		streamed := c.path != opsHTTP
		switch {
		case res.class.Served() && res.worker == victim && res.ended.After(cut.Add(cutSkew)):
			Fail(fmt.Sprintf("%s was served by %s, finishing %s after the fault cut it", what, victim, res.ended.Sub(cut).Round(time.Millisecond)))
		case res.class.Served() && streamed && res.output > c.tokens:
			Fail(fmt.Sprintf("%s was served %d tokens (in %d messages) for max_tokens %d, ending on %s: output from before the fault and output from after it on one stream",
				what, res.output, res.tokens, c.tokens, res.worker))
		case res.class.Served():
			t.served++
			if c.late {
				t.lateServed++
			}
		case res.class == outcome.Failed && res.reason == outcome.ReasonWorkerLost && streamed && (res.tokens == 0 || res.firstAt.After(cut.Add(cutSkew))):
			Fail(fmt.Sprintf("%s had sent nothing when the fault hit (%s), yet it ended failed/worker_lost instead of being moved to another worker",
				what, firstOutput(res, cut)))
		case res.class == outcome.Failed && res.reason == outcome.ReasonWorkerLost && streamed:
			t.lostStreamed++
		case res.class == outcome.Failed && res.reason == outcome.ReasonWorkerLost:
			t.lostPlain++
		default:
			Fail(fmt.Sprintf("%s ended %s/%s, neither served nor worker_lost", what, res.class, res.reason))
		}
		judged(c.path, 1)
	}
	return t
}
