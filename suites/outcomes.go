package suites

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// specTimeout bounds a simple spec: a handful of requests.
const specTimeout = 30 * time.Second

// completionEndpoints are the data-plane endpoints of the contract.
var completionEndpoints = []string{driver.PathChatCompletions, driver.PathCompletions}

var _ = Describe("Outcomes", func() {
	It("states exactly one well-formed outcome on every response of every endpoint", Req("OUT-1"), func(ctx SpecContext) {
		if env.Target.OutcomesInferred() {
			statesOutcomes(ctx)
			return // statesOutcomes made the verdict: the one finding of a runtime without the contract
		}
		var problems []string
		n := 0
		check := func(s outcomeSample, path string) {
			n++
			if t := s.trouble(); t != "" {
				problems = append(problems, t)
				return
			}
			judged(path, 1)
		}
		for _, t := range env.Target.Tenants {
			for i, ep := range completionEndpoints {
				for _, tr := range []string{pathHTTP, pathHTTPStream} {
					s := callServed(ctx, outcomeCall{what: "a completion on " + ep, tenant: t, endpoint: ep, transport: tr,
						body: probe(prompt(rng(41+uint64(i)), 5), 3, false)}, patience(tenantClass(t).Deadline))
					if s.answered() && !s.class.Served() {
						problems = append(problems, "a plain request of an unloaded runtime was not served: "+s.String())
					}
					check(s, fmt.Sprintf("tenant:%s:%s:%s", t.Name, tr, endpointName(s.what)))
				}
			}
		}
		a := tenantA()
		refusals := []outcomeCall{
			{what: "an unknown credential on " + driver.PathChatCompletions, tenant: a, key: "arcert-not-a-key", transport: pathHTTP, body: probe("hi", 1, false)},
			{what: "no credential on " + driver.PathCompletions, tenant: a, noKey: true, endpoint: driver.PathCompletions, transport: pathHTTPStream, body: probe("hi", 1, false)},
			{what: "an unknown model on " + driver.PathCompletions, tenant: a, endpoint: driver.PathCompletions, transport: pathHTTP, body: withModel(probe("hi", 1, false), "arcert-no-such-model")},
			{what: "an unknown model on " + driver.PathChatCompletions, tenant: a, transport: pathHTTPStream, body: withModel(probe("hi", 1, false), "arcert-no-such-model")},
			{what: "an undeclared traffic class on " + driver.PathCompletions, tenant: a, endpoint: driver.PathCompletions, transport: pathHTTP, class: "arcert-no-such-class", body: probe("hi", 1, false)},
		}
		for _, c := range refusals {
			s := callOutcome(ctx, c, patience(tenantClass(a).Deadline))
			check(s, fmt.Sprintf("refusal:%s:%s:%s", s.reason, s.transport, endpointName(s.what)))
		}
		for _, ep := range completionEndpoints {
			s := rawHTTP(ctx, "malformed JSON on "+ep, a.Name, ep, a.Key, []byte(`{"model": `), false, nil)
			check(s, fmt.Sprintf("refusal:%s:%s:%s", s.reason, s.transport, endpointName(s.what)))
		}
		for _, g := range discoveryProbes(ctx) {
			check(g.sample, "endpoint:"+strings.SplitN(g.path, "?", 2)[0])
		}
		failOn(problems, fmt.Sprintf("%d of %d responses did not state exactly one well-formed outcome, in time", len(problems), n))
	}, SpecTimeout(specTimeout))

	It("ends every stream, on every endpoint, class and tenant, with a final event that carries usage and the outcome", Req("OUT-3"), func(ctx SpecContext) {
		var problems []string
		n := 0
		for _, t := range env.Target.Tenants {
			for _, k := range env.Target.TrafficClasses {
				if !slices.Contains(t.TrafficClasses, k.Name) {
					continue
				}
				for i, ep := range completionEndpoints {
					body := asEndpoint(ep, probe(prompt(rng(43+uint64(i)), 5), 5, true))
					awaitAllowance(ctx, t, 1, servedReservation(body))
					res, err := env.HTTP.Do(ctx, driver.Call{Path: ep, Key: t.Key, Header: classHeader(k.Name), Body: body})
					s := httpSample("a stream on "+ep+" in class "+k.Name+" as "+t.Name, t.Name, true, res, err)
					s.deadline = k.Deadline
					n++
					switch {
					case s.trouble() != "":
						problems = append(problems, s.trouble())
					case !s.class.Served():
						problems = append(problems, "not served: "+s.String())
					case res.Tokens == 0:
						problems = append(problems, "no content chunk arrived: "+s.String())
					case res.Usage.CompletionTokens == 0:
						problems = append(problems, "the final event carries no usage: "+s.String())
					default:
						judged(fmt.Sprintf("%s:%s:%s", endpointName(ep), k.Name, t.Name), 1)
					}
				}
			}
		}
		failOn(problems, fmt.Sprintf("%d of %d streams did not end with a final event that carries usage and the outcome", len(problems), n))
	}, SpecTimeout(specTimeout))

	It("names the region and provider that served, within the tenant's allowed regions, on every path", Req("FBK-1"), func(ctx SpecContext) {
		noGRPC(pathGRPC)
		noBatches()
		var problems []string
		n := 0
		for _, t := range env.Target.Tenants {
			for _, tr := range outcomeTransports() {
				eps := completionEndpoints
				if tr == pathGRPC {
					eps = []string{"arcert.v1.Inference/Complete"}
				}
				for i, ep := range eps {
					s := callServed(ctx, outcomeCall{what: "a completion on " + ep, tenant: t, endpoint: ep, transport: tr,
						body: probe(prompt(rng(47+uint64(i)), 5), 2, false)}, patience(tenantClass(t).Deadline))
					n++
					if why := servedWhereAllowed(s, t); why != "" {
						problems = append(problems, why)
						continue
					}
					judged(fmt.Sprintf("%s:%s:%s", tr, endpointName(s.what), t.Name), 1)
					evidence("%s served by %s", s.what, s.servedBy)
				}
			}
		}
		if env.Target.Declares("queue") {
			for _, t := range env.Target.Tenants {
				for _, s := range batchOutcomes(ctx, t, []batchJob{{what: "a served job of " + t.Name, body: chatJob("Where are you?", 2, nil)}}) {
					n++
					if why := servedWhereAllowed(s, t); why != "" {
						problems = append(problems, why)
						continue
					}
					judged(pathBatch+":"+t.Name, 1)
					evidence("%s served by %s", s.what, s.servedBy)
				}
			}
		}
		for _, t := range env.Target.Tenants {
			if !t.DataPolicy.Stated() {
				evidence("tenant %s states no data policy: where its requests were served is named, not judged against allowed regions", t.Name)
			}
		}
		failOn(problems, fmt.Sprintf("%d of %d served answers do not say where they were served, or were served outside the tenant's allowed regions", len(problems), n))
	}, SpecTimeout(specTimeout))
})

// servedWhereAllowed says what is wrong with where a served answer says it was served, or "".
func servedWhereAllowed(s outcomeSample, t target.Tenant) string {
	switch {
	case s.trouble() != "":
		return s.trouble()
	case !s.class.Served():
		return "not served: " + s.String()
	case s.servedBy.Region == "" || s.servedBy.Provider == "":
		return fmt.Sprintf("no region or no provider named (served-by %q): %s", s.servedBy.String(), s)
	case !t.DataPolicy.Allows(s.servedBy.Region):
		return fmt.Sprintf("tenant %s was served in %s, outside its allowed regions (%s): %s", t.Name, s.servedBy.Region, listed(t.DataPolicy.AllowedRegions), s)
	}
	return ""
}

// discoveryProbe is one answer of a listing or discovery endpoint.
type discoveryProbe struct {
	path   string
	sample outcomeSample
}

// discoveryProbes reads every listing and discovery endpoint the contract serves, as a tenant and
// as no one, and the batch lookup when the target runs batches.
func discoveryProbes(ctx context.Context) []discoveryProbe {
	a := tenantA()
	gets := []struct{ path, key string }{
		{"/v1/models", a.Key},
		{discovery.PathFeatures, a.Key},
		{discovery.PathVersions, a.Key},
		{discovery.PathQuotas, a.Key},
		{discovery.PathQuotas, "arcert-not-a-key"},
		{discovery.PathEvidence + "?request_id=arcert-no-such-request", a.Key},
	}
	if env.Target.Declares("queue") {
		gets = append(gets, struct{ path, key string }{"/v1/batches/arcert-no-such-batch", a.Key})
	}
	if ops := env.Target.Operations; ops != nil && ops.Control != "" && env.Target.Operator != nil {
		doc := ops.Control + "models/" + ops.Model
		gets = append(gets, struct{ path, key string }{doc, env.Target.Operator.Key}, struct{ path, key string }{doc, a.Key})
	}
	var out []discoveryProbe
	for _, g := range gets {
		s := outcomeSample{transport: pathHTTP, what: "GET " + g.path, tenant: a.Name}
		started := time.Now()
		status, h, err := env.HTTP.GetJSON(ctx, g.path, g.key, nil)
		s.latency = time.Since(started)
		if err != nil {
			s.failed = err
		} else {
			s.status = status
			s.requestID, s.class, s.reason, s.servedBy, s.violations = headerStatement(h)
		}
		out = append(out, discoveryProbe{path: g.path, sample: s})
	}
	if env.Target.Declares("queue") {
		out = append(out, discoveryProbe{path: "/v1/batches", sample: rawHTTP(ctx, "POST /v1/batches with malformed JSON", a.Name, "/v1/batches", a.Key, []byte(`{"requests": [`), false, nil)})
	}
	return out
}

// statesOutcomes is OUT-1 for a target whose outcomes are inferred: it asks for one plain and one
// streamed completion. A runtime that states outcomes after all fails OUT-1 for the wrong
// declaration (the contract requirements were skipped because of it). When it does not, it fails
// the spec once with that finding: a runtime that
// states no outcome breaks OUT-1, and only OUT-1, while every other requirement judges the
// outcomes the driver inferred and the contract requirements are NOT_SUPPORTED.
func statesOutcomes(ctx context.Context) {
	a := tenantA()
	stated, answered := 0, 0
	for _, stream := range []bool{false, true} {
		res := send(ctx, a.Key, probe(prompt(rng(40), 5), 3, stream), nil)
		if res.Status == 0 {
			continue
		}
		answered++
		if !res.Inferred {
			stated++
		}
	}
	if answered == 0 {
		invalid("neither a plain nor a streamed completion was answered, so whether the runtime states outcomes is unknown")
		return
	}
	if stated > 0 {
		// Declared inferred, the contract requirements were not run: a runtime that does state
		// outcomes must be held to them, so the declaration itself is the failure.
		Fail(fmt.Sprintf("the runtime states outcomes (%d of %d completions carried %s), but the target says contract.outcomes: inferred, so OUT-3, OUT-6 and FBK-1 were not judged: declare contract.outcomes: stated",
			stated, answered, outcome.HeaderOutcome))
		return
	}
	judged("tenant:"+a.Name, answered)
	Fail(fmt.Sprintf("the runtime states no outcome: %d of %d completions (plain and streamed) carried no %s, reason or aruntime_outcome (the target says contract.outcomes: inferred). Every other requirement judged outcomes inferred from status, error body and completeness; OUT-3, OUT-6 and FBK-1, which read only the contract, are NOT_SUPPORTED",
		answered, answered, outcome.HeaderOutcome))
}
