package suites

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/conformance/target"
)

var _ = Describe("Tenancy", func() {
	It("binds the tenant from the credential only", Req("TEN-1"), func(ctx SpecContext) {
		vias := tenancyTransports()
		credentialOnly(ctx, vias)
		quotaFollowsCredential(ctx, vias)
	}, SpecTimeout(2*time.Minute))

	It("isolates prefix-cache reuse per tenant (paired test)", Req("TEN-2"), func(ctx SpecContext) {
		cacheIsolated(ctx)
	}, SpecTimeout(2*time.Minute))

	It("leaks no cached prefix through time to first token", Req("TEN-3"), func(ctx SpecContext) {
		timingLeakTest(ctx)
	}, SpecTimeout(2*time.Minute))

	It("propagates tenant context to evidence, traces and billing", Req("TEN-4"), func(ctx SpecContext) {
		contextPropagated(ctx)
	}, SpecTimeout(specTimeout))
})

// contextPropagated is TEN-4: every tenant, over every transport, in every traffic class it may
// use, gets an evidence record naming it, with a trace id of its own (no two requests share one),
// the tokens its response reported, the class it ran in and a cost billed to its cost center.
func contextPropagated(ctx context.Context) {
	vias := tenancyTransports()
	traces := map[string]string{}
	var problems []string
	n := 0
	for _, t := range env.Target.Tenants {
		for _, via := range vias {
			for _, class := range t.TrafficClasses {
				c := callAs(ctx, via, t, "bill me", 3, labelSpoof{Class: class})
				mustBeServed(c, "%s's request over %s in class %s", t.Name, via, class)
				recs := evidenceFor(ctx, t.Key, c.ID)
				where := fmt.Sprintf("%s over %s in class %s (request %s)", t.Name, via, class, c.ID)
				p := propagationProblem(t, class, c, recs)
				if p == "" {
					if other, seen := traces[recs[0].TraceID]; seen {
						p = "its trace id " + recs[0].TraceID + " is also the trace of " + other
					}
					traces[recs[0].TraceID] = where
				}
				if p != "" {
					problems = append(problems, where+": "+p)
				}
				judged(via+":"+class, 1)
				judged("class:"+class, 1)
				judged("tenant:"+t.Name, 1)
				n++
			}
		}
	}
	evidence("%d requests, every tenant over %s in each of its traffic classes: %d records lacked some of the tenant's context", n, strings.Join(vias, ", "), len(problems))
	if len(problems) > 0 {
		Fail(fmt.Sprintf("%d of %d evidence records did not carry the tenant's context: %s", len(problems), n, strings.Join(firstOf(problems, 3), "; ")))
	}
}

// propagationProblem says what the evidence of t's request c, asked in class, lacks; "" when
// nothing.
func propagationProblem(t target.Tenant, class string, c labelCall, recs []discovery.Record) string {
	if len(recs) != 1 {
		return fmt.Sprintf("%d evidence records instead of 1", len(recs))
	}
	r := recs[0]
	var wrong []string
	if r.Tenant != t.Name {
		wrong = append(wrong, fmt.Sprintf("tenant %q", r.Tenant))
	}
	if r.TraceID == "" {
		wrong = append(wrong, "no trace id")
	}
	if r.Tokens.Prompt != c.Prompt || r.Tokens.Completion != c.Completion {
		wrong = append(wrong, fmt.Sprintf("billed %d prompt and %d completion tokens where the response reported %d and %d",
			r.Tokens.Prompt, r.Tokens.Completion, c.Prompt, c.Completion))
	}
	switch {
	case t.CostCenter != "" && r.CostCenter != t.CostCenter:
		wrong = append(wrong, fmt.Sprintf("cost center %q instead of %q", r.CostCenter, t.CostCenter))
	case r.CostCenter == "":
		wrong = append(wrong, "no cost center")
	}
	if r.TrafficClass != class {
		wrong = append(wrong, fmt.Sprintf("class %q", r.TrafficClass))
	}
	if r.Outcome != c.Outcome {
		wrong = append(wrong, fmt.Sprintf("outcome %s where the response said %s", r.Outcome, c.Outcome))
	}
	return strings.Join(wrong, ", ")
}
