package plan

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aruntime/arcert/conformance/target"
)

// The suites' load parameters the gates below depend on. They mirror the constants of the same
// names in package suites (a test there keeps them equal) until the suites call these gates.
const (
	// OverloadFactor is how far over the declared rate the admission floods go (suites/admission.go).
	OverloadFactor = 4
	// QuotaHeadroom is how far above a load's rate tenants' quotas must be (suites/load.go).
	QuotaHeadroom = 1.5
	// ProbeRate is ADM-4's and ADM-7's probe rate (suites/classes.go).
	ProbeRate = 18.0
	// LCProbeRate, LCBurstShare, LCContextShare, LCLongMaxTokens and LCBurstEvery size ADM-8's
	// bursts (suites/longcontext.go).
	LCProbeRate     = 25.0
	LCBurstShare    = 0.5
	LCContextShare  = 0.9
	LCLongMaxTokens = 4
	LCBurstEvery    = 800 * time.Millisecond
	// The quota runs' parameters (suites/quotas_runs.go).
	QuotaFactor          = 3
	RequestRunWindow     = 2500 * time.Millisecond
	TokenRunWindow       = 4 * time.Second
	MinQuotaSamples      = 20
	QuotaLoadShare       = 0.5
	TokenRunRequestShare = 0.6
	TokenRunMaxTokens    = 1
)

type gate func(t *target.Target) (Status, string)

// gates are the requirement-specific conditions, keyed by requirement id.
var gates = map[string]gate{
	"ADM-1": admissionGate, "ADM-2": admissionGate, "ADM-3": admissionGate,
	"ADM-4": classesGate,
	"ADM-6": pdGate,
	"ADM-7": fairnessGate,
	"ADM-8": longContextGate,
	"QUO-1": quotaGate, "QUO-3": quotaGate,
	"QUO-4": recordGate,
	"DOC-1": locationsGate,
	"ID-1":  operatorGate, "ID-3": operatorGate,
	"ID-2":  workloadGate,
	"OUT-2": refusalGate, "OUT-3": streamCutGate, "OUT-6": statusGate,
	"OUT-5": outputGate,
	"OUT-9": grpcGate,
}

// classTenants are the tenants that may use class name.
func classTenants(t *target.Target, name string) []target.Tenant {
	var out []target.Tenant
	for _, tn := range t.Tenants {
		if slices.Contains(tn.TrafficClasses, name) {
			out = append(out, tn)
		}
	}
	return out
}

// Carries reports whether some set of tenants, most generous quota first, carries a load of
// rate requests/s and inFlight concurrent requests with QuotaHeadroom (suites' loadKeysOver).
func Carries(tenants []target.Tenant, rate float64, inFlight int) bool {
	ts := slices.Clone(tenants)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Quota.Requests() > ts[j].Quota.Requests() })
	conc := 0
	for k, tn := range ts {
		conc += tn.Quota.Concurrency()
		if float64(tn.Quota.Requests())/60 >= QuotaHeadroom*rate/float64(k+1) && conc >= inFlight {
			return true
		}
	}
	return false
}

func admissionGate(t *target.Target) (Status, string) {
	rate := OverloadFactor * t.Capacity.RequestsPerSecond
	inFlight := t.Capacity.Concurrency
	for _, k := range t.TrafficClasses {
		inFlight += k.QueueBound
	}
	for _, k := range t.TrafficClasses {
		if Carries(classTenants(t, k.Name), rate, inFlight) {
			return Runs, defaultedDeadlines(t)
		}
	}
	return Unjudgeable, fmt.Sprintf("no class's tenants carry the overload: their max_concurrency must sum to at least concurrency + queue bounds (%d) and their requests_per_minute reach %.0f (%.1fx %d x the declared %.0f req/s, per minute)",
		inFlight, QuotaHeadroom*rate*60, QuotaHeadroom, OverloadFactor, t.Capacity.RequestsPerSecond)
}

func classesGate(t *target.Target) (Status, string) {
	if len(t.TrafficClasses) < 2 {
		return Unjudgeable, "needs two traffic classes: one to protect, one to flood it with"
	}
	protected, flooding := t.TrafficClasses[0], t.TrafficClasses[1]
	for _, k := range []target.TrafficClass{protected, flooding} {
		if k.TTFT == 0 {
			return NotSupported, fmt.Sprintf("class %s states no ttft_objective", k.Name)
		}
	}
	if protected.ITL == 0 {
		return NotSupported, fmt.Sprintf("class %s states no itl_objective", protected.Name)
	}
	rate := OverloadFactor * t.Capacity.RequestsPerSecond
	if !Carries(classTenants(t, flooding.Name), rate, t.Capacity.Concurrency+flooding.QueueBound) ||
		!Carries(classTenants(t, protected.Name), ProbeRate, 1) {
		return Unjudgeable, fmt.Sprintf("no set of tenants has the quota to flood class %s at %.0f req/s and probe class %s", flooding.Name, rate, protected.Name)
	}
	return Runs, defaultedDeadlines(t)
}

func pdGate(t *target.Target) (Status, string) {
	switch {
	case len(t.TrafficClasses) < 2:
		return Unjudgeable, "needs an interactive class and another for the long prompts"
	case t.TrafficClasses[0].ITL == 0:
		return Unjudgeable, fmt.Sprintf("class %s states no itl_objective", t.TrafficClasses[0].Name)
	}
	return Runs, ""
}

func fairnessGate(t *target.Target) (Status, string) {
	k := t.TrafficClasses[0]
	if k.TTFT == 0 {
		return NotSupported, fmt.Sprintf("class %s states no ttft_objective", k.Name)
	}
	ts := slices.Clone(classTenants(t, k.Name))
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Quota.Requests() > ts[j].Quota.Requests() })
	rate := OverloadFactor * t.Capacity.RequestsPerSecond
	carries := func(tn target.Tenant, rate float64, conc int) bool {
		return float64(tn.Quota.Requests())/60 >= QuotaHeadroom*rate && tn.Quota.Concurrency() >= conc
	}
	if len(ts) < 2 || !carries(ts[0], rate, t.Capacity.Concurrency+k.QueueBound) || !carries(ts[1], ProbeRate, 1) {
		return Unjudgeable, fmt.Sprintf("needs two tenants of class %s: one whose quota alone floods it at %.0f req/s with %d in flight, one that probes it at %.0f req/s",
			k.Name, rate, t.Capacity.Concurrency+k.QueueBound, ProbeRate)
	}
	return Runs, defaultedDeadlines(t)
}

func longContextGate(t *target.Target) (Status, string) {
	class := t.TrafficClasses[0]
	if class.TTFT == 0 {
		return NotSupported, fmt.Sprintf("class %s states no ttft_objective", class.Name)
	}
	size := max(1, int(LCBurstShare*float64(t.Capacity.Concurrency)))
	longTokens := int(LCContextShare * float64(t.Models[0].ContextLength-LCLongMaxTokens))
	perSecond := float64(size) / LCBurstEvery.Seconds()
	bursters, probers := 0, 0
	for _, tn := range classTenants(t, class.Name) {
		if tn.Quota.Concurrency() >= size && float64(tn.Quota.Requests())/60 >= QuotaHeadroom*perSecond &&
			float64(tn.Quota.Tokens())/60 >= QuotaHeadroom*perSecond*float64(longTokens) {
			bursters++
		}
		if float64(tn.Quota.Requests())/60 >= QuotaHeadroom*LCProbeRate {
			probers++
		}
	}
	if bursters == 0 || probers < 2 {
		return Unjudgeable, fmt.Sprintf("%d tenants of class %s can carry a burst of %d prompts of %d tokens and %d can carry %.0f probes/s; the check needs one and two",
			bursters, class.Name, size, longTokens, probers, LCProbeRate)
	}
	return Runs, defaultedDeadlines(t)
}

// quotaGate is the quota runs' plan (suites' planRequestRun and planTokenRun): a quota can be
// measured when the run that spends it stays within half the declared capacity, admits enough
// requests to count, and fits the model's context.
func quotaGate(t *target.Target) (Status, string) {
	var why string
	for _, tn := range t.Tenants {
		r, w := QuotaMeasurable(t, tn)
		if r {
			return Runs, defaultedDeadlines(t)
		}
		if why == "" {
			why = w
		}
	}
	return Unjudgeable, "no tenant's quota can be told from load shedding: " + why
}

// QuotaMeasurable reports whether one of tn's quotas can be measured against t's capacity, or
// why not.
func QuotaMeasurable(t *target.Target, tn target.Tenant) (bool, string) {
	capacity := QuotaLoadShare * t.Capacity.RequestsPerSecond
	requests := float64(tn.Quota.RequestsPerMinute) / 60
	reqWhy := ""
	switch {
	case QuotaFactor*requests > capacity:
		reqWhy = fmt.Sprintf("%s's request quota (%.0f/s) is too near the declared capacity (%.0f/s)", tn.Name, requests, t.Capacity.RequestsPerSecond)
	case requests*RequestRunWindow.Seconds() < MinQuotaSamples:
		reqWhy = fmt.Sprintf("%s's request quota (%.2f/s) is too low to measure in %s", tn.Name, requests, RequestRunWindow)
	default:
		return true, ""
	}
	tokens := float64(tn.Quota.TokensPerMinute) / 60
	p := int(math.Ceil(tokens / (TokenRunRequestShare * requests)))
	admitted := tokens / float64(p+TokenRunMaxTokens)
	switch {
	case p+TokenRunMaxTokens > t.Models[0].ContextLength:
		return false, reqWhy + "; spending its token quota needs prompts beyond the model's context"
	case admitted*TokenRunWindow.Seconds() < MinQuotaSamples:
		return false, reqWhy + "; its token quota admits too few requests to measure"
	case QuotaFactor*admitted > capacity:
		return false, reqWhy + fmt.Sprintf("; its token quota (%.0f/s) is too near the declared capacity", tokens)
	}
	return true, ""
}

func recordGate(t *target.Target) (Status, string) {
	for _, tn := range t.Tenants {
		if tn.Quota.RequestsPerMinute == 0 || tn.Quota.TokensPerMinute == 0 {
			return FailsAsDeclared, fmt.Sprintf("tenant %s states no request or token quota", tn.Name)
		}
	}
	for _, m := range t.Models {
		if m.PromptPricePer1K+m.CompletionPricePer1K == 0 {
			return FailsAsDeclared, fmt.Sprintf("model %s states no price", m.Name)
		}
	}
	if t.Placement == (target.Placement{}) {
		return FailsAsDeclared, "the record has no placement section"
	}
	return Runs, ""
}

func locationsGate(t *target.Target) (Status, string) {
	if t.Locations == (target.Locations{}) {
		return FailsAsDeclared, "the record has no locations section"
	}
	return Runs, ""
}

func operatorGate(t *target.Target) (Status, string) {
	if t.Operator == nil {
		return Unjudgeable, "needs the operator credential (operator.key)"
	}
	return Runs, ""
}

func workloadGate(t *target.Target) (Status, string) {
	if t.Workload == nil {
		return Unjudgeable, "needs the workload credential (workload.key)"
	}
	return Runs, ""
}

// refusalGate: OUT-2 floods the first class with work that cannot finish within its deadline;
// without a stated deadline the runtime has none to time work out at (suites' refusal run).
func refusalGate(t *target.Target) (Status, string) {
	if k := t.TrafficClasses[0]; !k.DeadlineStated() {
		return NotSupported, fmt.Sprintf("class %s states no deadline, so timed-out work cannot be provoked or told from shed work", k.Name)
	}
	return Runs, ""
}

func streamCutGate(t *target.Target) (Status, string) {
	if k := t.TrafficClasses[0]; !k.DeadlineStated() {
		return Runs, fmt.Sprintf("a stream cut by its deadline is not probed: class %s states no deadline", k.Name)
	}
	return Runs, ""
}

// statusGate names the reasons OUT-6's refusal run cannot provoke with these declarations: their
// status codes are judged only if the runtime answers with them anyway.
func statusGate(t *target.Target) (Status, string) {
	var unprovoked []string
	if k := t.TrafficClasses[0]; !k.DeadlineStated() {
		unprovoked = append(unprovoked, "queue_full and deadline (class "+k.Name+" states no deadline)")
	}
	for _, tn := range t.Tenants {
		if tn.Quota.RequestsPerMinute == 0 {
			unprovoked = append(unprovoked, "quota_exceeded (tenant "+tn.Name+" states no request quota)")
			break
		}
	}
	if len(unprovoked) == 0 {
		return Runs, ""
	}
	return Runs, "not provoked: " + strings.Join(unprovoked, "; ")
}

func outputGate(t *target.Target) (Status, string) {
	for _, m := range t.Models {
		if !m.MaxOutputStated() {
			return Runs, fmt.Sprintf("model %s states no max_output_tokens: the over-limit request asks for 1000x its context length", m.Name)
		}
	}
	return Runs, ""
}

func grpcGate(t *target.Target) (Status, string) {
	if t.Endpoints.GRPC == "" {
		return NotSupported, "needs a gRPC endpoint (endpoints.grpc)"
	}
	return Runs, ""
}
