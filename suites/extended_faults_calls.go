package suites

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aruntime/arcert/api/discovery"
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
	output     int       // tokens received, at least (outputTokens): what max_tokens bounds
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
			tokens: res.Tokens, output: grpcOutput(res), latency: res.Latency, ended: time.Now(), violations: res.ContractViolations, err: err}
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
		tokens: res.Tokens, output: httpOutput(res), latency: res.Latency, ended: time.Now(), violations: res.ContractViolations, err: err}
	if res.Indeterminate {
		out.class = ""
	}
	if res.Tokens > 0 {
		out.firstAt = res.Start.Add(res.TTFT)
	}
	return out
}

// xidRound runs one round of the device-fault spec on worker id: early streams until the HTTP
// ones have streamed, then late long-prompt streams, then the fault ev faultLateLead later. It
// returns every call with its result, the hook's answer and when it returned.
func xidRound(ctx context.Context, r *rand.Rand, id string, ev discovery.DeviceEvent) ([]faultCall, []faultResult, discovery.DeviceEventResult, time.Time) {
	var calls []faultCall
	for i := range faultEarly {
		path := []string{opsHTTPStream, opsGRPC}[i%2]
		if i < faultEarlyHTTP {
			path = opsHTTP
		}
		if path == opsGRPC && env.GRPC == nil {
			path = opsHTTPStream
		}
		calls = append(calls, faultCall{path: path, text: prompt(r, 24), tokens: faultTokens})
	}
	for i := range faultLate {
		path := opsHTTPStream
		if i%2 == 1 && env.GRPC != nil {
			path = opsGRPC
		}
		calls = append(calls, faultCall{path: path, text: prompt(r, faultLateWords), tokens: faultTokens / 4, late: true})
	}
	var streaming atomic.Int32
	results := make([]faultResult, len(calls))
	var wg sync.WaitGroup
	start := func(i int) {
		wg.Go(func() { results[i] = runFaultCall(ctx, calls[i], func() { streaming.Add(1) }) })
	}
	httpStreams := 0
	for i, c := range calls {
		if !c.late {
			start(i)
			if c.path == opsHTTPStream {
				httpStreams++
			}
		}
	}
	opsPoll(ctx, faultStreamed, 5*time.Millisecond, func() bool { return int(streaming.Load()) >= httpStreams })
	for i, c := range calls {
		if c.late {
			start(i)
		}
	}
	lead := time.NewTimer(faultLateLead)
	select {
	case <-lead.C:
	case <-ctx.Done():
	}
	after := deviceEvent(ctx, id, ev)
	hookReturned := time.Now()
	wg.Wait()
	return calls, results, after, hookReturned
}
