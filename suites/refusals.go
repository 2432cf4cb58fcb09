package suites

import (
	"context"
	"math"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/checks"
	"github.com/aruntime/arcert/conformance/driver"
)

// floodExtra is how many requests beyond the declared concurrency plus queue bound the refusal
// flood sends at once: the ones that must be shed.
const floodExtra = 24

var _ = Describe("Refusals", func() {
	// One runtime, three situations: invalid input must be rejected, work beyond the declared
	// bound shed, and work that cannot finish in time timed out. A runtime that answers all
	// three alike (one generic error) fails, even if each answer is well-formed.
	It("keeps rejected, shed and timed-out work distinct", Req("OUT-2"), func(ctx SpecContext) {
		t := env.Target
		class := t.TrafficClasses[0]
		bad := send(ctx, tenantA().Key, openai.CompletionRequest{Model: "arcert-no-such-model",
			Messages: []openai.ChatMessage{{Role: "user", Content: "hi"}}, MaxTokens: ptr(int64(1))}, nil)

		itl := typicalITL(ctx)
		if itl <= 0 {
			inconclusive("could not measure inter-token latency, so no request can be sized to outlast the deadline")
			return
		}
		tokens := int(math.Min(float64(model().MaxOutputTokens), math.Ceil(2*class.Deadline.Seconds()/itl.Seconds())))
		if time.Duration(tokens)*itl < class.Deadline {
			inconclusive("the model's longest output (%d tokens at %s each) finishes before the %s deadline, so timed_out cannot be provoked", tokens, itl, class.Deadline)
			return
		}
		n := t.Capacity.Concurrency + class.QueueBound + floodExtra
		keys, ok := loadKeys(0, n)
		if !ok {
			invalid("the declared tenants' concurrency limits cannot hold %d requests at once", n)
			return
		}
		results := flood(ctx, n, keys, class.Name, tokens)
		classes := map[outcome.Class]outcome.Reason{bad.Outcome: bad.Reason}
		counts := map[outcome.Class]int{}
		for _, r := range results {
			counts[r.Outcome]++
			classes[r.Outcome] = r.Reason
		}
		evidence("invalid input: %s/%s; flood of %d requests of %d tokens (deadline %s, ITL %s): %v",
			bad.Outcome, bad.Reason, n, tokens, class.Deadline, itl.Round(time.Microsecond), counts)
		Expect(bad.Outcome).To(Equal(outcome.Rejected), "invalid input: %s", describe(bad))
		Expect(counts[outcome.Shed]).To(BeNumerically(">", 0), "nothing was shed with %d requests beyond the declared bound", floodExtra)
		Expect(counts[outcome.TimedOut]).To(BeNumerically(">", 0), "nothing timed out though no request could finish within its deadline")
		Expect(classes[outcome.Rejected]).NotTo(Equal(classes[outcome.Shed]))
		Expect(classes[outcome.Shed]).NotTo(Equal(classes[outcome.TimedOut]))
	}, SpecTimeout(2*time.Minute))
})

// typicalITL measures the median gap between tokens of one unloaded streamed request.
func typicalITL(ctx context.Context) time.Duration {
	res := send(ctx, tenantA().Key, probe("Count slowly.", 16, true), nil)
	if !res.Outcome.Served() || len(res.ITL) == 0 {
		return 0
	}
	return checks.Quantile(res.ITL, 0.5)
}

// flood sends n requests of tokens output tokens at once, spread over keys, and waits for all.
func flood(ctx context.Context, n int, keys []string, class string, tokens int) []driver.Result {
	out := make([]driver.Result, n)
	var wg sync.WaitGroup
	r := rng(7)
	bodies := make([]openai.CompletionRequest, n)
	for i := range bodies {
		bodies[i] = probe(prompt(r, 8), tokens, false)
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: keys[i%len(keys)], Body: bodies[i],
				Header: map[string][]string{"Aruntime-Traffic-Class": {class}}})
			if err == nil {
				out[i] = res
			}
		}()
	}
	wg.Wait()
	return out
}
