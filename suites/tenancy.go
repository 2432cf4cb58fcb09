package suites

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/conformance/target"
)

var _ = Describe("Tenancy", func() {
	It("binds the tenant from the credential only", Req("TEN-1"), func(ctx SpecContext) {
		vias := tenancyEndpoints()
		credentialOnly(ctx, vias)
		if CurrentSpecReport().Failed() {
			return // a caller's goroutine failed the spec: its verdict is made
		}
		quotaFollowsCredential(ctx, vias)
	}, SpecTimeout(2*time.Minute))

	It("isolates prefix-cache reuse per tenant (paired test)", Req("TEN-2"), func(ctx SpecContext) {
		cacheIsolated(ctx)
	}, SpecTimeout(2*time.Minute))

	// 240 sequential requests of 200-word prompts: 6-7 s on the reference, 14-22 s on a CPU
	// runtime such as Ollama with a tiny model; the bound leaves room for a slower one.
	It("leaks no cached prefix through time to first token", Req("TEN-3"), func(ctx SpecContext) {
		timingLeakTest(ctx)
	}, SpecTimeout(6*time.Minute))

	It("propagates tenant context to evidence, traces and billing", Req("TEN-4"), func(ctx SpecContext) {
		contextPropagated(ctx)
	}, SpecTimeout(2*time.Minute))
})

// contextPropagated is TEN-4: every tenant, over every transport, in every traffic class it may
// use, and through the batch API, gets an evidence record naming it, with a trace id of its own (no two requests share one),
// the tokens its response reported, the class it ran in and a cost billed to its cost center.
func contextPropagated(ctx context.Context) {
	vias := tenancyEndpoints()
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
	if env.Target.Declares("queue") {
		jobs, more := batchContextPropagated(ctx, traces)
		n += jobs
		problems = append(problems, more...)
	} else {
		notProbed("batch-api", "the target does not declare the batch queue")
	}
	evidence("%d requests and jobs, every tenant over %s and the batch API, in each of its traffic classes: %d records lacked some of the tenant's context", n, strings.Join(vias, ", "), len(problems))
	if len(problems) > 0 {
		Fail(fmt.Sprintf("%d of %d evidence records did not carry the tenant's context: %s", len(problems), n, strings.Join(firstOf(problems, 3), "; ")))
	}
}

// propagationProblem says what the evidence of t's request c, asked in class, lacks; "" when
// nothing. An empty class or outcome (a batch job's) is not compared.
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
	if class != "" && r.TrafficClass != class {
		wrong = append(wrong, fmt.Sprintf("class %q", r.TrafficClass))
	}
	if c.Outcome != "" && r.Outcome != c.Outcome {
		wrong = append(wrong, fmt.Sprintf("outcome %s where the response said %s", r.Outcome, c.Outcome))
	}
	return strings.Join(wrong, ", ")
}

// batchJobUsage is what TEN-4 reads of a finished batch: each job's request id and the usage its
// response body reported (OpenAI's batch output shape).
type batchJobUsage struct {
	Output []struct {
		CustomID string `json:"custom_id"`
		Response struct {
			StatusCode int    `json:"status_code"`
			RequestID  string `json:"request_id"`
			Body       struct {
				Usage openai.Usage `json:"usage"`
			} `json:"body"`
		} `json:"response"`
	} `json:"output"`
}

// batchContextPropagated is TEN-4 on the batch API: every tenant queues a batch, and each job's
// evidence must name the tenant, a trace id no other request has, the tokens the job's response
// reported and a cost billed to the tenant's cost center. It returns how many jobs it judged and
// what each lacked.
func batchContextPropagated(ctx context.Context, traces map[string]string) (int, []string) {
	var ids []string
	for _, t := range env.Target.Tenants {
		ids = append(ids, submitTenancyBatch(ctx, t, nil, "", "", "bill me").ID)
	}
	var problems []string
	n := 0
	for i, t := range env.Target.Tenants {
		awaitBatch(ctx, t.Key, ids[i])
		var done batchJobUsage
		if status := getJSON(ctx, "/v1/batches/"+ids[i], t.Key, &done); status != http.StatusOK {
			Fail(fmt.Sprintf("%s cannot read its finished batch %s: status %d", t.Name, ids[i], status))
		}
		for _, o := range done.Output {
			resp := o.Response
			c := labelCall{ID: resp.RequestID, Served: resp.StatusCode == http.StatusOK,
				Prompt: resp.Body.Usage.PromptTokens, Completion: resp.Body.Usage.CompletionTokens}
			mustBeServed(c, "%s's batch job %s", t.Name, o.CustomID)
			recs := evidenceFor(ctx, t.Key, c.ID)
			where := fmt.Sprintf("%s's batch job %s (request %s)", t.Name, o.CustomID, c.ID)
			p := propagationProblem(t, "", c, recs)
			if p == "" {
				if other, seen := traces[recs[0].TraceID]; seen {
					p = "its trace id " + recs[0].TraceID + " is also the trace of " + other
				}
				traces[recs[0].TraceID] = where
			}
			if p != "" {
				problems = append(problems, where+": "+p)
			}
			judged("batch-api", 1)
			judged("tenant:"+t.Name, 1)
			n++
		}
	}
	return n, problems
}
