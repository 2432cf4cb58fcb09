package suites

import (
	"context"
	"sync"
	"time"

	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// The billing run: a small load of requests on every client path, some run to the end, some cut
// by their client after a few chunks, some cut by their class deadline mid-stream, all at once;
// each client keeps its own ledger of what it received, and EVD-2 reconciles the evidence with it
// afterwards.

// Endings the billing run provokes (the catalogue paths of EVD-2).
const (
	billCompleted = "completed"
	billCancelled = "cancelled"
	billTimedOut  = "timed-out"
)

const (
	// billPromptWords makes prompts of some hundreds of tokens, so that a price off by a few
	// percent moves the bill by more than rounding.
	billPromptWords = 200
	// billCompletedTokens is the output of a request that runs to the end.
	billCompletedTokens = 16
	// billCancelledTokens is what a cancelled stream asks for: far more than it reads, so that a
	// bill of what it asked for stands out even from a runtime sending many tokens a message.
	billCancelledTokens = 256
	// billCutAfter is how many content chunks a cancelling client reads before it closes.
	billCutAfter = 6
	// billCompletedPerPath and billCancelledPerPath size the load on each client path.
	billCompletedPerPath = 4
	billCancelledPerPath = 2
)

// billShot is one request of the billing run, as planned.
type billShot struct {
	path   string // pathHTTP, pathHTTPStream or pathGRPC
	ending string // the ending it is meant to have: billCompleted, billCancelled or billTimedOut
	tenant target.Tenant
	text   string
	tokens int
	// deadline is the tenant's class deadline, which a timed-out stream must outlast.
	deadline time.Duration
}

// billSample is one request of the billing run as its client received it: its own ledger line.
type billSample struct {
	billShot
	requestID string
	// chunks is the content chunks received; usageGiven says whether the response stated usage
	// (a stream's final event or message, a plain body), and prompt/completion what it said.
	chunks int
	// received is the content text received, which says how many tokens the chunks carried
	// (delivered).
	received           string
	usageGiven         bool
	prompt, completion int
	err                error
}

// billingShots plans the run: on every path, requests run to the end and streams cut by their
// client; on the streamed paths, one stream that outlasts its class deadline. Tenants alternate
// between the first two, so that each bills its own.
func billingShots(paths []string) []billShot {
	r := rng(41)
	var out []billShot
	var text string
	add := func(path, ending string, tokens int) {
		t := env.Target.Tenants[len(out)%min(2, len(env.Target.Tenants))]
		out = append(out, billShot{path: path, ending: ending, tenant: t, text: text, tokens: tokens,
			deadline: tenantClass(t).Deadline})
	}
	for _, p := range paths {
		// One prompt per path: a cut stream states no usage, so its prompt's count is the one
		// the path's completed requests were told for the same prompt.
		text = prompt(r, billPromptWords)
		for range billCompletedPerPath {
			add(p, billCompleted, billCompletedTokens)
		}
		if p == pathHTTP {
			continue // a plain body has no chunks to cut after, and nothing of it arrives cut
		}
		for range billCancelledPerPath {
			add(p, billCancelled, billCancelledTokens)
		}
		add(p, billTimedOut, model().MaxOutputTokens)
	}
	return out
}

// runBilling sends every shot at once and returns what each client received.
func runBilling(ctx context.Context, shots []billShot) []billSample {
	out := make([]billSample, len(shots))
	var wg sync.WaitGroup
	for i, s := range shots {
		wg.Go(func() { out[i] = billCall(ctx, s) })
	}
	wg.Wait()
	return out
}

// billCall sends one shot, cutting it after billCutAfter chunks when it is meant to be cancelled.
func billCall(ctx context.Context, s billShot) billSample {
	cctx, cancel := context.WithTimeout(ctx, patience(s.deadline))
	defer cancel()
	onContent := func(n int) {
		if s.ending == billCancelled && n == billCutAfter {
			cancel() // the client goes away: the connection or call is closed
		}
	}
	out := billSample{billShot: s}
	body := probe(s.text, s.tokens, s.path != pathHTTP)
	if s.path == pathGRPC {
		res, err := env.GRPC.CompleteWatch(cctx, s.tenant.Key, grpcRequest(body, ""), onContent)
		out.requestID, out.chunks, out.received = res.RequestID, res.Tokens, res.Text
		if u := res.Usage; u != nil {
			out.usageGiven, out.prompt, out.completion = true, int(u.GetPromptTokens()), int(u.GetCompletionTokens())
		}
		if s.ending != billCancelled {
			out.err = err
		}
		return out
	}
	res, err := env.HTTP.Do(cctx, driver.Call{Path: driver.PathChatCompletions, Key: s.tenant.Key, Body: body, OnContent: onContent})
	out.requestID, out.chunks, out.received = res.RequestID, res.Tokens, res.Text
	if u := res.Usage; u.TotalTokens > 0 || u.PromptTokens > 0 {
		out.usageGiven, out.prompt, out.completion = true, u.PromptTokens, u.CompletionTokens
	}
	if s.ending != billCancelled {
		out.err = err // a cancelled stream's broken exchange is the point
	}
	return out
}
