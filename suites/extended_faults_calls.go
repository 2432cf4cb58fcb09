package suites

import (
	"context"
	"sync"
	"time"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
)

// faultCall is one request of a fault spec, on one client path.
type faultCall struct {
	path, text string
	tokens     int
	// late marks a request sent just before the fault, to be caught before it has sent anything.
	late bool
}

// faultResult is what the client saw of a faultCall, whichever path carried it.
type faultResult struct {
	id         string
	class      outcome.Class
	reason     outcome.Reason
	worker     string
	tokens     int       // content chunks received: 0 means the client saw nothing before the end
	firstAt    time.Time // when the first content arrived; zero without content
	latency    time.Duration
	ended      time.Time
	violations []string
	err        error
}

// runFaultCall sends c as tenant A; onFirst, when set, is called once at the first content of an
// HTTP stream (gRPC has no such hook: its calls are judged by the tokens they received).
func runFaultCall(ctx context.Context, c faultCall, onFirst func()) faultResult {
	if c.path == opsGRPC {
		res, err := env.GRPC.Complete(ctx, tenantA().Key, &arcertv1.CompleteRequest{Model: model().Name,
			Messages: []*arcertv1.ChatMessage{{Role: "user", Content: c.text}}, MaxTokens: int64(c.tokens)})
		out := faultResult{id: res.RequestID, class: res.Outcome, reason: res.Reason, worker: res.ServedBy.Worker,
			tokens: res.Tokens, latency: res.Latency, ended: time.Now(), violations: res.ContractViolations, err: err}
		if res.Tokens > 0 {
			out.firstAt = res.Start.Add(res.TTFT)
		}
		return out
	}
	call := driver.Call{Path: driver.PathChatCompletions, Key: tenantA().Key, Body: probe(c.text, c.tokens, c.path == opsHTTPStream)}
	if onFirst != nil {
		var once sync.Once
		call.OnContent = func(int) { once.Do(onFirst) }
	}
	res, err := env.HTTP.Do(ctx, call)
	out := faultResult{id: res.RequestID, class: res.Outcome, reason: res.Reason, worker: res.ServedBy.Worker,
		tokens: res.Tokens, latency: res.Latency, ended: time.Now(), violations: res.ContractViolations, err: err}
	if res.Indeterminate {
		out.class = ""
	}
	if res.Tokens > 0 {
		out.firstAt = res.Start.Add(res.TTFT)
	}
	return out
}
