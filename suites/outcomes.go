package suites

import (
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
)

// specTimeout bounds a simple spec: a handful of requests.
const specTimeout = 30 * time.Second

var _ = Describe("Outcomes", func() {
	It("states exactly one well-formed outcome on every response", Req("OUT-1"), func(ctx SpecContext) {
		a := tenantA()
		calls := []driver.Call{
			{Path: driver.PathChatCompletions, Key: a.Key, Body: probe("Name three colours.", 4, false)},
			{Path: driver.PathChatCompletions, Key: a.Key, Body: probe("Name three rivers.", 4, true)},
			{Path: driver.PathChatCompletions, Key: a.Key, Body: openai.CompletionRequest{Model: "arcert-no-such-model", Messages: []openai.ChatMessage{{Role: "user", Content: "hi"}}}},
			{Path: driver.PathChatCompletions, Key: "arcert-not-a-key", Body: probe("hi", 1, false)},
		}
		for _, call := range calls {
			res, err := env.HTTP.Do(ctx, call)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.ContractViolations).To(BeEmpty(), "the response breaks the outcome contract: %s", describe(res))
			Expect(res.Outcome.Valid()).To(BeTrue(), describe(res))
			evidence("%s %s: %d %s/%s", call.Path, streamWord(call.Body.Stream), res.Status, res.Outcome, res.Reason)
		}
	}, SpecTimeout(specTimeout))

	It("ends every stream with a final event that carries usage and the outcome", Req("OUT-3"), func(ctx SpecContext) {
		res := send(ctx, tenantA().Key, probe("Count to five.", 5, true), nil)
		Expect(res.Outcome.Served()).To(BeTrue(), describe(res))
		Expect(res.ContractViolations).To(BeEmpty(), describe(res))
		Expect(res.Tokens).To(BeNumerically(">", 0), "no content chunk arrived")
		Expect(res.Usage.CompletionTokens).To(BeNumerically(">", 0), "the final event carries no usage")
		evidence("stream of %d chunks ended %s/%s with usage %+v", res.Tokens, res.Outcome, res.Reason, res.Usage)
	}, SpecTimeout(specTimeout))

	It("rejects bad input with a reason and keeps serving", Req("OUT-5"), func(ctx SpecContext) {
		a, m := tenantA(), model()
		zero, huge := int64(0), int64(m.MaxOutputTokens)*1000
		long := strings.Repeat("token ", m.ContextLength+1)
		bad := map[string]openai.CompletionRequest{
			"unknown model":       {Model: "arcert-no-such-model", Messages: []openai.ChatMessage{{Role: "user", Content: "hi"}}, MaxTokens: ptr(int64(1))},
			"max_tokens 0":        {Model: m.Name, Messages: []openai.ChatMessage{{Role: "user", Content: "hi"}}, MaxTokens: &zero},
			"max_tokens huge":     {Model: m.Name, Messages: []openai.ChatMessage{{Role: "user", Content: "hi"}}, MaxTokens: &huge},
			"prompt over context": {Model: m.Name, Messages: []openai.ChatMessage{{Role: "user", Content: long}}, MaxTokens: ptr(int64(1))},
			"no messages":         {Model: m.Name, MaxTokens: ptr(int64(1))},
		}
		for name, body := range bad {
			res := send(ctx, a.Key, body, nil)
			Expect(res.Outcome).To(Equal(outcome.Rejected), "%s: %s", name, describe(res))
			Expect(res.Reason).NotTo(BeEmpty(), name)
			evidence("%s: %d rejected/%s", name, res.Status, res.Reason)
		}
		res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: a.Key, Header: http.Header{"Content-Type": {"application/json"}},
			Body: openai.CompletionRequest{Model: m.Name}})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Outcome).To(Equal(outcome.Rejected), "a request without messages or max_tokens: %s", describe(res))
		unknown := send(ctx, "arcert-not-a-key", probe("hi", 1, false), nil)
		Expect(unknown.Outcome).To(Equal(outcome.Rejected), "an unknown credential: %s", describe(unknown))
		after := send(ctx, a.Key, probe("Still serving?", 2, false), nil)
		Expect(after.Outcome.Served()).To(BeTrue(), "after bad input the runtime stopped serving: %s", describe(after))
	}, SpecTimeout(specTimeout))

	It("uses the contract's status codes for each class", Req("OUT-6"), func(ctx SpecContext) {
		a := tenantA()
		ok := send(ctx, a.Key, probe("hello", 2, false), nil)
		Expect(ok.Status).To(Equal(http.StatusOK), describe(ok))
		rej := send(ctx, "arcert-not-a-key", probe("hello", 2, false), nil)
		Expect(rej.Status).To(BeNumerically(">=", 400))
		Expect(rej.Status).To(BeNumerically("<", 500), describe(rej))
		evidence("served %d, rejected %d", ok.Status, rej.Status)
	}, SpecTimeout(specTimeout))

	It("names the region and provider that served, within the tenant's allowed regions", Req("FBK-1"), func(ctx SpecContext) {
		for _, t := range env.Target.Tenants[:2] {
			res := send(ctx, t.Key, probe("Where are you?", 2, false), nil)
			Expect(res.Outcome.Served()).To(BeTrue(), describe(res))
			Expect(res.ServedBy.Region).NotTo(BeEmpty(), "ARuntime-Served-By names no region")
			Expect(res.ServedBy.Provider).NotTo(BeEmpty(), "ARuntime-Served-By names no provider")
			Expect(slices.Contains(t.DataPolicy.AllowedRegions, res.ServedBy.Region)).To(BeTrue(),
				"tenant %s was served in %s, outside its allowed regions %v", t.Name, res.ServedBy.Region, t.DataPolicy.AllowedRegions)
			evidence("tenant %s served by %s", t.Name, res.ServedBy)
		}
	}, SpecTimeout(specTimeout))
})

func ptr[T any](v T) *T { return &v }

func streamWord(stream bool) string {
	if stream {
		return "streamed"
	}
	return "plain"
}
