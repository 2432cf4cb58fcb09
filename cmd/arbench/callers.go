package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
	"google.golang.org/grpc"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// The load generator's callers: each sends one request, reads its answer whole and says how it
// ended. They are built once per run; a request allocates only what its client library must.

// httpCaller posts a non-streamed chat completion to addr (the router's OpenAI front door, or
// nginx's proxy_pass to the trivial backend: the same request, so the same client cost) over at
// most conns keep-alive connections, a request waiting for a free one as with a client's pool.
//
// The client is fasthttp's, as in load generators such as bombardier: net/http's client spent
// about 100 µs of CPU a request on this two-core machine (a reader and a writer goroutine per
// connection, a hand-over between them per request), CPU the generator then took from the
// server it measures. fasthttp reads and writes on the caller's goroutine. Both are HTTP/1.1
// with keep-alive on the wire; each answer is read whole. Only ctx's deadline reaches a request
// (fasthttp takes no context): cancelling ctx does not end one in flight, which the load
// generator, whose requests each have a deadline and whose run is never cancelled, does not need.
func httpCaller(addr, key string, maxTokens, conns int) (func(context.Context) (outcome, error), func(), error) {
	body := []byte(fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}],"max_tokens":%d}`, benchModel, benchPrompt, maxTokens))
	client := &fasthttp.HostClient{Addr: addr, MaxConns: conns, MaxConnWaitTimeout: loadgenTimeout,
		MaxIdemponentCallAttempts: 1, NoDefaultUserAgentHeader: true, MaxIdleConnDuration: time.Minute,
		ConnPoolStrategy: fasthttp.LIFO}
	uri := "http://" + addr + "/v1/chat/completions"
	auth := "Bearer " + key
	call := func(ctx context.Context) (outcome, error) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI(uri)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.Set("Authorization", auth)
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(body)
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(loadgenTimeout)
		}
		if err := client.DoDeadline(req, resp, deadline); err != nil {
			return classifyFastHTTPErr(err), err
		}
		code := resp.StatusCode()
		switch code {
		case fasthttp.StatusOK:
			return served, nil
		case fasthttp.StatusTooManyRequests, fasthttp.StatusServiceUnavailable:
			return shed, fmt.Errorf("status %d, outcome %s/%s", code, resp.Header.Peek("ARuntime-Outcome"), resp.Header.Peek("ARuntime-Outcome-Reason"))
		}
		return failed, fmt.Errorf("status %d, outcome %s/%s", code, resp.Header.Peek("ARuntime-Outcome"), resp.Header.Peek("ARuntime-Outcome-Reason"))
	}
	return call, client.CloseIdleConnections, nil
}

// classifyFastHTTPErr: a refused, reset, closed or timed-out connection, or no free connection
// within the deadline, is a connection error; the rest (a malformed response) is a failure.
func classifyFastHTTPErr(err error) outcome {
	var timeout interface{ Timeout() bool }
	var broken fasthttp.ErrBrokenChunk // a chunked body cut short; it does not unwrap
	switch {
	case errors.As(err, &broken):
		return connError
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrNoFreeConns),
		errors.Is(err, fasthttp.ErrConnectionClosed), errors.Is(err, fasthttp.ErrDialTimeout),
		errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return connError
	case errors.As(err, &timeout) && timeout.Timeout():
		return connError
	}
	return classifyErr(err)
}

// grpcCaller calls the router's Inference.Complete (kind router) or a worker's Generate (kind
// worker) over one gRPC connection, as a gRPC client would.
func grpcCaller(kind, addr, token string, maxTokens int) (func(context.Context) (outcome, error), func(), error) {
	conn, err := dial(addr)
	if err != nil {
		return nil, nil, err
	}
	closeFn := func() { _ = conn.Close() }
	result := func(err error) (outcome, error) {
		if err == nil {
			return served, nil
		}
		return classifyErr(err), err
	}
	if kind == kindRouter {
		client := arcertv1.NewInferenceClient(conn)
		req := &arcertv1.CompleteRequest{Model: benchModel, Messages: []*arcertv1.ChatMessage{{Role: "user", Content: benchPrompt}}, MaxTokens: int64(maxTokens)}
		return func(ctx context.Context) (outcome, error) {
			stream, err := client.Complete(bearer(ctx, token), req)
			if err != nil {
				return result(err)
			}
			return result(drain(stream.Recv))
		}, closeFn, nil
	}
	client := arcertv1.NewWorkerClient(conn)
	req := &arcertv1.GenerateRequest{Tenant: &arcertv1.TenantContext{Tenant: "bench", Application: "arbench", User: "arbench"},
		Model: benchModel, Prompt: benchPrompt, MaxTokens: int64(maxTokens), TrafficClass: "interactive"}
	return func(ctx context.Context) (outcome, error) {
		stream, err := client.Generate(bearer(ctx, token), req, grpc.WaitForReady(false))
		if err != nil {
			return result(err)
		}
		return result(drain(stream.Recv))
	}, closeFn, nil
}
