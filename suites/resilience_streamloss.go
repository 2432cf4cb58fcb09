package suites

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/gomega"
	"google.golang.org/grpc/codes"

	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// The burst of the unstarted-work spec: as many calls as the primary region runs at once, each
// with a prompt long enough that its prefill takes tens of milliseconds, and a worker lost
// burstDispatch after the burst went out, when some of the calls it was given have no output
// yet. Only wires that show output as it comes (streams, and gRPC, whose calls stream) are sent:
// a plain HTTP answer shows nothing before its end, so a call lost before its first token cannot
// be told from one lost midway.
const (
	burstCalls       = 16
	burstPromptWords = 500
	burstTokens      = 8
	burstDispatch    = 40 * time.Millisecond
	// minUnstarted is the validity gate: at least this many calls of the burst without output
	// when the worker was lost.
	minUnstarted = 4
	// streamLossTimeout bounds OUT-7's spec: per wire, a stream cut with every primary worker
	// lost, then several with one lost (at most spliceTries runs), each followed by the workers'
	// restart.
	streamLossTimeout = 4 * time.Minute
)

// streamEnd is how a stream cut by worker loss ended, over either wire.
type streamEnd struct {
	requestID string
	// tokens counts the content messages the client received; output the tokens it received, at
	// least (outputTokens): a stream sent several tokens to a message is counted by its words.
	// What max_tokens bounds is output; a bill is judged against the messages and text (EVD-3,
	// delivered), never against a count the runtime states for this stream.
	tokens, output int
	text           string
	failedMid      bool // an error event (HTTP) or a non-OK status (gRPC) after content
	class          outcome.Class
	reason         outcome.Reason
	worker         string // the worker the runtime says served it, when it says
	violations     []string
	err            error
}

func (s streamEnd) String() string {
	msg := fmt.Sprintf("%d tokens in %d messages, outcome %q/%q, error at the end %t", s.output, s.tokens, s.class, s.reason, s.failedMid)
	if len(s.violations) > 0 {
		msg += ", contract broken: " + strings.Join(s.violations, "; ")
	}
	return msg
}

// streamOver starts a long stream of t over via and calls running once it has sent
// midStreamAfter tokens.
func streamOver(ctx context.Context, via string, t target.Tenant, content string, running func()) streamEnd {
	var once sync.Once
	on := func(n int) {
		if n >= midStreamAfter {
			once.Do(running)
		}
	}
	if via == viaGRPCStream {
		res, err := env.GRPC.CompleteWatch(ctx, t.Key, grpcRequest(probe(content, midStreamTokens, false), ""), on)
		return streamEnd{requestID: res.RequestID, tokens: res.Tokens, output: grpcOutput(res), text: res.Text, failedMid: res.Tokens > 0 && res.Code != codes.OK, class: res.Outcome, reason: res.Reason, worker: res.ServedBy.Worker, violations: res.ContractViolations, err: err}
	}
	res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: t.Key, Body: probe(content, midStreamTokens, true), OnContent: on})
	return streamEnd{requestID: res.RequestID, tokens: res.Tokens, output: httpOutput(res), text: res.Text, failedMid: res.MidStreamError, class: res.Outcome, reason: res.Reason, worker: res.ServedBy.Worker, violations: res.ContractViolations, err: err}
}

// expectStreamCutFails runs one stream over via, loses the primary region's workers once it is
// running, and checks that it ends with an error and a failed outcome. It reports whether the
// spec may go on (false after INVALID).
func expectStreamCutFails(ctx context.Context, via, region string, parts []string) bool {
	a := tenantA()
	awaitSteady(ctx)
	done := make(chan streamEnd, 1)
	running := make(chan struct{})
	content := prompt(rng(361), 8) + " " + via
	go func() { done <- streamOver(ctx, via, a, content, func() { close(running) }) }()
	select { // the loss must meet a stream that is running, not one that has not begun
	case <-running:
	case e := <-done:
		invalid("the stream over %s ended before %d tokens, before its worker could be lost mid-way: %s", via, midStreamAfter, e)
		return false
	case <-ctx.Done():
		return false
	}
	heal := loseWorkers(ctx, region, parts...)
	var end streamEnd
	Eventually(done).WithContext(ctx).WithTimeout(tenantDeadline(a)+deadlineGrace).Should(Receive(&end), "the stream over %s did not end after its worker was lost", via)
	Expect(heal()).To(Succeed())
	Expect(end.err).NotTo(HaveOccurred(), "the stream over %s broke without an outcome after its worker was lost (%d tokens): the runtime must end it with an error and its outcome", via, end.output)
	if end.tokens == 0 || end.output >= midStreamTokens {
		invalid("the stream over %s had %d of %d tokens when it ended: the loss did not hit it mid-stream (%s)", via, end.output, midStreamTokens, end)
		return false
	}
	judgeThat(end.failedMid, "the stream over %s ended without an error after %d tokens when its worker was lost: %s", via, end.output, end)
	judgeThat(end.class == outcome.Failed, "the stream over %s did not end failed after its worker was lost: %s", via, end)
	judgeThat(len(end.violations) == 0, "the stream over %s: its end broke the contract: %s", via, strings.Join(end.violations, "; "))
	expectRecovery(ctx, runResult{window: chaosledger.Window{End: time.Now()}}, a)
	judgedFor("OUT-7", via, 1)
	evidence("a %s stream lost its worker after %d tokens and ended with an error: %s/%s", via, end.output, end.class, end.reason)
	return true
}

// expectUnstartedWorkMoved sends a burst over every wire that shows output as it comes, loses
// victim while some calls have none yet, and checks that every call without output at the loss
// is served: work that had sent nothing may be moved to another worker without the client seeing
// anything twice, so failing it with worker_lost gives up work the runtime could still do.
func expectUnstartedWorkMoved(ctx context.Context, region, victim string) {
	awaitSteady(ctx)
	var paths []string
	for _, p := range faultPaths() {
		if p != viaHTTP {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		inconclusive("the target offers no wire that shows output as it comes (no streaming, no gRPC)")
		return
	}
	tenants := []target.Tenant{tenantA(), tenantB()}
	r := rng(363)
	var mu sync.Mutex
	firstAt := map[int]time.Time{} // call → when its first content arrived
	var l chaosledger.Ledger
	var wg sync.WaitGroup
	for i := range burstCalls {
		seq := i + 1
		rq := viaRequest(tenants[i%2], paths[(i/2)%len(paths)], prompt(r, burstPromptWords))
		mt := int64(burstTokens)
		rq.body.MaxTokens = &mt
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, tenantDeadline(rq.tenant)+deadlineGrace+hungMargin)
			defer cancel()
			e := sendWatched(rctx, rq, func() {
				mu.Lock()
				if _, ok := firstAt[seq]; !ok {
					firstAt[seq] = time.Now()
				}
				mu.Unlock()
			})
			e.Seq = seq
			l.Record(e)
		})
	}
	sleepCtx(ctx, burstDispatch)
	lost := time.Now()
	heal := loseWorkers(ctx, region, victim)
	wg.Wait()
	Expect(heal()).To(Succeed())
	entries := l.Entries()
	Expect(chaosledger.OneTerminalOutcome(entries)).To(BeEmpty(), "calls of the burst without exactly one outcome of the contract")
	var unstarted []chaosledger.Entry
	for _, e := range entries {
		if at, ok := firstAt[e.Seq]; (ok && at.Before(lost)) || e.MidStream {
			// It had output: a failure now is a mid-stream one, OUT-7's to judge. One that failed
			// after content it received only after the loss still had that content from the
			// worker before it went.
			continue
		}
		judgeThat(e.Served(), "call #%d of %s over %s had no output when %s was lost, yet it ended %s/%s instead of being served by another worker",
			e.Seq, e.Tenant, e.Path, victim, e.Outcome, e.Reason)
		judgeThat(e.ServedBy.Worker != victim, "call #%d over %s was served by %s, which was lost", e.Seq, e.Path, victim)
		unstarted = append(unstarted, e)
	}
	if len(unstarted) < minUnstarted {
		invalid("only %d calls of the burst had no output when %s was lost (need %d)", len(unstarted), victim, minUnstarted)
		return
	}
	judgedFor("FLT-2", "before-output", len(unstarted))
	expectRecovery(ctx, runResult{window: chaosledger.Window{End: time.Now()}}, tenantA())
	evidence("%s lost %s after a burst of %d calls went out; the %d without output then (%s) were all served by another worker",
		victim, burstDispatch, len(entries), len(unstarted), pathsText(unstarted))
}

// sendWatched is sendVia that calls onContent at each call's first content.
func sendWatched(ctx context.Context, rq loadReq, onContent func()) chaosledger.Entry {
	on := func(int) { onContent() }
	var e chaosledger.Entry
	switch rq.via {
	case viaGRPC, viaGRPCStream:
		res, err := env.GRPC.CompleteWatch(ctx, rq.tenant.Key, grpcRequest(rq.body, ""), on)
		e = entryOfGRPC(rq.tenant, res, err)
	default:
		res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: rq.tenant.Key, Body: rq.body, OnContent: on})
		e = entryOf(rq.tenant, res, err)
	}
	e.Path = rq.via
	return e
}
