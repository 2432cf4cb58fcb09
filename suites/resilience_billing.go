package suites

import (
	"context"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/target"
)

// EVD-3: a stream that fails midway is billed what its client received. EVD-2 judges the endings
// a client can provoke (completed, cancelled, timed out); a failure midway needs a fault, so it is
// judged on OUT-7's streams, whose worker is lost after they sent some tokens.

var _ = Describe("Billing under faults", func() {
	It("bills streams whose worker is lost midway the tokens their clients received", Req("EVD-3"), func(ctx SpecContext) {
		DeferCleanup(noResidue)
		region, parts, ok := workersToLose(1, "a stream losing its worker")
		if !ok {
			return
		}
		var vias []string
		for _, via := range []string{viaHTTPStream, viaGRPCStream} {
			if slices.Contains(faultPaths(), via) {
				vias = append(vias, via)
			} else {
				explainPaths(via)
			}
		}
		if len(vias) == 0 {
			inconclusive("the target offers no streaming wire, so no stream can fail midway")
			return
		}
		a := tenantA()
		contents := make([]string, len(vias))
		prompts := make([]int, len(vias))
		stated := make([]statedTokens, len(vias))
		for i, via := range vias {
			// The prompt's count, and the tokens a message the wire states, are learnt before the
			// loss, from a request served to the end.
			contents[i] = prompt(rng(371+uint64(i)), billPromptWords) + " billed " + via
			prompts[i], stated[i] = promptCountOver(ctx, via, a, contents[i])
		}
		ends, ok := cutStreamsAtOnce(ctx, region, parts, vias, contents)
		if !ok {
			return
		}
		for i, via := range vias {
			judgeMidwayBill(ctx, via, a, prompts[i], stated[i].of(ends[i].tokens, ends[i].text), ends[i])
		}
		expectRecovery(ctx, runResult{window: chaosledger.Window{End: time.Now()}}, a)
	}, SpecTimeout(streamLossTimeout))
})

// cutStreamsAtOnce starts one long stream of tenant A over each of vias, loses the primary
// region's workers once all of them are running, and returns how each ended. One loss cuts every
// wire, so the spec pays for one worker restart. It reports false, having said why, when a stream
// was not cut midway (it ended before the loss, or with every token).
func cutStreamsAtOnce(ctx context.Context, region string, parts, vias, contents []string) ([]streamEnd, bool) {
	a := tenantA()
	awaitSteady(ctx)
	out := make([]streamEnd, len(vias))
	done := make([]chan streamEnd, len(vias))
	running := make(chan string, len(vias))
	for i, via := range vias {
		done[i] = make(chan streamEnd, 1)
		go func() { done[i] <- streamOver(ctx, via, a, contents[i], func() { running <- via }) }()
	}
	for range vias {
		select { // the loss must meet streams that are running, not ones that have not begun
		case <-running:
		case <-time.After(tenantDeadline(a)):
			invalid("not every stream (%v) had sent %d tokens within %s, before the workers could be lost", vias, midStreamAfter, tenantDeadline(a))
			return nil, false
		case <-ctx.Done():
			return nil, false
		}
	}
	heal := loseWorkers(ctx, region, parts...)
	for i, via := range vias {
		Eventually(done[i]).WithContext(ctx).WithTimeout(tenantDeadline(a)+deadlineGrace).Should(Receive(&out[i]),
			"the stream over %s did not end after its worker was lost", via)
	}
	Expect(heal()).To(Succeed())
	for _, s := range out {
		if s.err != nil || s.tokens == 0 || s.tokens >= midStreamTokens || !s.failedMid {
			invalid("a stream was not failed midway by the loss of its worker (%s), so its bill proves nothing about failed streams", s)
			return nil, false
		}
	}
	return out, true
}

// midwayBillWait bounds how long after a failed stream its evidence record may take to appear: the
// router writes it as the request ends, through the same path as any other ending.
const midwayBillWait = 10 * time.Second

// midwaySettle is how long a failed stream's evidence must stay one record once it has one.
const midwaySettle = time.Second

// judgeMidwayBill checks the evidence of the stream over via that ended failed midway: its
// completion tokens are got, what the client's chunks carried (within the one in flight as the
// worker went), its prompt tokens are the prompt's count as a served request over the same wire is told
// it, and its cost follows the declared prices.
func judgeMidwayBill(ctx context.Context, via string, t target.Tenant, prompt int, got delivered, end streamEnd) {
	judgeThat(end.requestID != "", "the stream over %s that failed midway carries no request id, so its bill cannot be found", via)
	recs := awaitRecords(ctx, t.Key, end.requestID, midwayBillWait)
	judgeThat(len(recs) == 1, "the stream over %s that failed midway (request %s) has %d evidence records, want 1", via, end.requestID, len(recs))
	// A second record may come later (spooled during the loss, flushed after): billed twice.
	Consistently(func() int { return len(evidenceNow(ctx, t.Key, end.requestID)) }).WithContext(ctx).
		WithTimeout(midwaySettle).WithPolling(100*time.Millisecond).Should(Equal(1),
		"the stream over %s that failed midway (request %s) gained another evidence record: it is billed twice", via, end.requestID)
	recs = evidenceNow(ctx, t.Key, end.requestID)
	rec := recs[0]
	judgeThat(got.holds(rec.Tokens.Completion, billSlack),
		"the stream over %s failed midway (%s/%s) after its client received %d chunks carrying %s tokens, and evidence bills %d completion tokens",
		via, rec.Outcome, rec.Reason, end.tokens, got, rec.Tokens.Completion)
	judgeThat(rec.Tokens.Prompt == prompt,
		"the stream over %s failed midway after its prompt was processed, and evidence bills %d prompt tokens; the same prompt served over %s counts %d",
		via, rec.Tokens.Prompt, via, prompt)
	want, ok := declaredCost(rec)
	judgeThat(ok, "the stream over %s failed midway and was billed %d micro-USD for %d+%d tokens; the declared prices make %d",
		via, rec.CostMicroUSD, rec.Tokens.Prompt, rec.Tokens.Completion, want)
	judgedFor("EVD-3", got.on(via), 1)
	evidence("the %s stream that failed midway after %d chunks is billed %d prompt and %d completion tokens, %d micro-USD",
		via, end.tokens, rec.Tokens.Prompt, rec.Tokens.Completion, rec.CostMicroUSD)
}

// promptCountOver is the prompt count of content over via, as a served request is told it, and
// what that request stated of its statedTokens completion tokens (how many a message carries).
func promptCountOver(ctx context.Context, via string, t target.Tenant, content string) (int, statedTokens) {
	path := pathHTTPStream
	if via == viaGRPCStream {
		path = pathGRPC
	}
	s := billCall(ctx, billShot{path: path, ending: billCompleted, tenant: t, text: content, tokens: calibrationTokens, deadline: tenantClass(t).Deadline})
	judgeThat(s.err == nil && s.usageGiven, "a served request over %s, sent to learn the prompt's count, stated no usage (err %v)", via, s.err)
	var st statedTokens
	st.add(s.chunks, s.completion)
	return s.prompt, st
}

// calibrationTokens is the output of the request that learns a wire's prompt count: enough
// messages to tell one token a message from several.
const calibrationTokens = 16
