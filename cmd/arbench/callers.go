package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"time"

	"google.golang.org/grpc"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// The load generator's callers: each sends one request, reads its answer whole and says how it
// ended. They are built once per run; a request allocates only what its client library must.

// httpCaller posts a non-streamed chat completion to addr (the router's OpenAI front door, or
// nginx's proxy_pass to the trivial backend: the same request, so the same client cost).
func httpCaller(addr, key string, maxTokens, conns int) (func(context.Context) (outcome, error), func(), error) {
	body := []byte(fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}],"max_tokens":%d}`, benchModel, benchPrompt, maxTokens))
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
		IdleConnTimeout: time.Minute, DisableCompression: true}
	client := &http.Client{Transport: tr}
	url := "http://" + addr + "/v1/chat/completions"
	auth := "Bearer " + key
	call := func(ctx context.Context) (outcome, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return failed, err
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return classifyHTTPErr(err), err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		switch {
		case err != nil:
			return classifyHTTPErr(err), err
		case resp.StatusCode == http.StatusOK:
			return served, nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
			return shed, fmt.Errorf("status %d, outcome %s/%s", resp.StatusCode, resp.Header.Get("ARuntime-Outcome"), resp.Header.Get("ARuntime-Outcome-Reason"))
		}
		return failed, fmt.Errorf("status %d, outcome %s/%s", resp.StatusCode, resp.Header.Get("ARuntime-Outcome"), resp.Header.Get("ARuntime-Outcome-Reason"))
	}
	return call, tr.CloseIdleConnections, nil
}

// classifyHTTPErr: a refused, reset or timed-out connection is a connection error; the rest
// (a malformed response) is a failure.
func classifyHTTPErr(err error) outcome {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
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
