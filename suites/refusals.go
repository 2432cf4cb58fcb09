package suites

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/outcome"
)

// refusalsTimeout bounds the refusal run: bad input, a quota burst with its refill, and the
// flood, whose every call is abandoned at patience(deadline).
const refusalsTimeout = 3 * time.Minute

// Every refusal the outcome rules cover, provoked once on every transport and judged per rule:
// a runtime that answers some cause, some transport or some stream differently is caught on the
// path where it does.
var _ = Describe("Refusals", Ordered, ContinueOnFailure, func() {
	var run *refusalRun

	BeforeAll(func(ctx SpecContext) {
		run = provokeRefusals(ctx)
		evidence("flood: %d requests of %d tokens (deadline %s, ITL %s) in class %s", len(run.flood), run.tokens, run.class.Deadline, run.itl.Round(time.Microsecond), run.class.Name)
	}, NodeTimeout(refusalsTimeout))

	// Invalid input must be rejected, work beyond the declared bound shed, and work that cannot
	// finish in time timed out, each in time. A runtime that answers all three alike (one generic
	// error), or whose timed_out answers come long after the deadline, fails.
	It("keeps rejected, shed and timed-out work distinct, each within its deadline", Req("OUT-2"), func() {
		if run.gate != "" {
			gateVerdict(run)
			return
		}
		classes := map[outcome.Class]map[outcome.Reason]int{}
		count := func(s outcomeSample) {
			if classes[s.class] == nil {
				classes[s.class] = map[outcome.Reason]int{}
			}
			classes[s.class][s.reason]++
		}
		var notRejected, late []string
		for _, s := range run.malformed {
			if !s.answered() || s.class != outcome.Rejected {
				notRejected = append(notRejected, s.String())
				continue
			}
			count(s)
			judged("rejected:"+s.transport, 1)
		}
		for _, s := range run.flood {
			if s.late() || !s.answered() {
				late = append(late, s.trouble())
				continue
			}
			count(s)
			if s.class == outcome.Shed || s.class == outcome.TimedOut {
				judged(string(s.class)+":"+s.transport, 1)
			}
		}
		evidence("outcomes by class and reason: %s", classCounts(classes))
		failOn(late, fmt.Sprintf("%d of %d answers to the overload came after the %s deadline plus %s tolerance, or never",
			len(late), len(run.flood), run.class.Deadline, outcomeTolerance))
		failOn(notRejected, fmt.Sprintf("%d of %d invalid inputs were not rejected", len(notRejected), len(run.malformed)))
		if len(classes[outcome.Shed]) == 0 {
			Fail(fmt.Sprintf("nothing was shed with %d requests beyond the declared concurrency and queue bound (%s)", floodExtra, classCounts(classes)))
		}
		if len(classes[outcome.TimedOut]) == 0 {
			Fail(fmt.Sprintf("nothing timed out though no request of the overload could finish within its deadline (%s)", classCounts(classes)))
		}
	})

	It("answers every reason it can provoke with the contract's status code", Req("OUT-6"), func() {
		noGRPC(pathGRPC)
		noBatches()
		var wrong []string
		seen := map[outcome.Reason]bool{}
		n := 0
		for _, s := range run.all() {
			if !s.answered() {
				continue
			}
			if _, known := s.reason.Info(); !known {
				continue // OUT-1 and OUT-9 judge reasons outside the enum
			}
			n++
			if ok, why := contractStatus(s); !ok {
				wrong = append(wrong, why)
			}
			seen[s.reason] = true
			tr := pathHTTP
			if s.transport == pathGRPC || s.transport == pathBatch {
				tr = s.transport
			}
			judged(tr+":"+string(s.reason), 1)
		}
		failOn(wrong, fmt.Sprintf("%d of %d answers carry another status than the contract's table gives their reason", len(wrong), n))
		var missing []string
		for _, r := range provokable(run) {
			if !seen[r] {
				missing = append(missing, string(r))
			}
		}
		if len(missing) > 0 {
			invalid("these reasons could not be provoked, so their status codes were not judged: %s", strings.Join(missing, ", "))
		}
	})

	It("rejects bad input with a reason on every endpoint and transport, and keeps serving", Req("OUT-5"), func() {
		noGRPC(pathGRPC)
		var bad, stopped []string
		for _, s := range run.malformed {
			switch {
			case s.trouble() != "":
				bad = append(bad, s.trouble())
			case s.class != outcome.Rejected:
				bad = append(bad, s.String())
			case s.mustReason != "" && s.reason != s.mustReason:
				bad = append(bad, fmt.Sprintf("%s, not %s", s, s.mustReason))
			default:
				judged(s.transport+":"+endpointName(s.what), 1)
			}
		}
		for _, s := range run.served {
			if s.trouble() != "" || !s.class.Served() {
				stopped = append(stopped, s.String())
			}
		}
		if run.malformedCut != "" {
			evidence("%s", run.malformedCut)
		}
		failOn(bad, fmt.Sprintf("%d of %d bad inputs were not rejected with a reason of the contract, in time", len(bad), len(run.malformed)))
		failOn(stopped, "after the bad input the runtime stopped serving")
	})

	It("states every gRPC refusal in trailers with the contract's code, in time", Req("OUT-9"), func() {
		if env.GRPC == nil {
			Fail("the target declares the grpc feature without a gRPC endpoint")
		}
		var bad []string
		n := 0
		for _, s := range run.all() {
			if s.transport != pathGRPC {
				continue
			}
			n++
			if t := s.trouble(); t != "" {
				bad = append(bad, t)
				continue
			}
			if ok, why := contractStatus(s); !ok {
				bad = append(bad, why)
				continue
			}
			if s.class.Served() {
				judged("served:"+s.tenant, 1)
			} else {
				judged(string(s.class)+":"+string(s.reason), 1)
			}
		}
		failOn(bad, fmt.Sprintf("%d of %d gRPC calls did not end as the contract says", len(bad), n))
	})

	It("ends a stream cut by its deadline with an error event that carries timed_out", Req("OUT-3"), func() {
		if run.noDeadline {
			notProbed("timed_out", "%s", run.gate)
			return
		}
		if run.gate != "" {
			gateVerdict(run)
			return
		}
		var bad []string
		for _, s := range run.flood {
			if s.transport != pathHTTPStream || !s.answered() || !s.started {
				continue
			}
			if s.trouble() != "" || s.class != outcome.TimedOut {
				bad = append(bad, s.String())
				continue
			}
			judged("timed_out:http-stream", 1)
		}
		failOn(bad, fmt.Sprintf("%d streams cut by their deadline did not end with an error event that carries timed_out", len(bad)))
	})
})

// provokable lists the reasons the refusal run sets out to provoke: served, bad input, unknown
// model, no credential, a class not allowed, a full queue, a passed deadline and, when a tenant's
// quota can be told from load, quota_exceeded. Others (forbidden, body_too_large,
// context_length_exceeded...) are judged when the runtime answers with them.
func provokable(run *refusalRun) []outcome.Reason {
	rs := []outcome.Reason{outcome.ReasonNone, outcome.ReasonInvalidRequest, outcome.ReasonUnknownModel,
		outcome.ReasonUnauthenticated, outcome.ReasonTrafficClassNotAllowed}
	if run.gate == "" {
		rs = append(rs, outcome.ReasonQueueFull, outcome.ReasonDeadline)
	}
	if run.quotaGate == "" {
		rs = append(rs, outcome.ReasonQuotaExceeded)
	}
	return rs
}

// gateVerdict reports why the flood could not be judged.
func gateVerdict(run *refusalRun) {
	if run.inconclusive {
		inconclusive("%s", run.gate)
		return
	}
	invalid("%s", run.gate)
}

// failOn fails the spec with lead, one sentence, and its first pieces of evidence when problems
// is not empty; every piece goes to the report's evidence.
func failOn(problems []string, lead string) {
	if len(problems) == 0 {
		return
	}
	shown := problems
	if len(shown) > 3 {
		shown = shown[:3]
	}
	for _, p := range problems {
		evidence("%s", p)
	}
	Fail(fmt.Sprintf("%s: %s", lead, strings.Join(shown, "; ")))
}

// classCounts renders counts by class and reason for people.
func classCounts(m map[outcome.Class]map[outcome.Reason]int) string {
	var parts []string
	for _, c := range outcome.Classes {
		for _, r := range outcome.SortedReasons() {
			if n := m[c][r]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s/%s %d", c, r, n))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// endpointName is the endpoint a sample's description names, for judged paths.
func endpointName(what string) string {
	switch {
	case strings.Contains(what, "/v1/completions"):
		return "completions"
	case strings.Contains(what, "/v1/chat/completions"):
		return "chat"
	}
	return "complete"
}
