package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// target is one path a request can take; call sends one request and returns when its response
// has been read whole.
type target struct {
	name  string
	call  func(ctx context.Context) error
	close func()
}

// benchPrompt is the short prompt of every request.
const benchPrompt = "Summarise the incident report in one line."

func dial(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

func bearer(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// drain reads a server stream to its end.
func drain[T any](recv func() (T, error)) error {
	for {
		if _, err := recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// workerTarget calls the worker's Generate directly, as the router would.
func workerTarget(addr, token string, maxTokens int) target {
	return workerLike("worker, gRPC direct", addr, token, maxTokens)
}

func workerLike(name, addr, token string, maxTokens int) target {
	conn, err := dial(addr)
	if err != nil {
		return target{name: name, call: func(context.Context) error { return err }}
	}
	client := arcertv1.NewWorkerClient(conn)
	req := &arcertv1.GenerateRequest{Tenant: &arcertv1.TenantContext{Tenant: "bench", Application: "arbench", User: "arbench"},
		Model: benchModel, Prompt: benchPrompt, MaxTokens: int64(maxTokens), TrafficClass: "interactive"}
	return target{name: name, close: func() { _ = conn.Close() }, call: func(ctx context.Context) error {
		stream, err := client.Generate(bearer(ctx, token), req)
		if err != nil {
			return err
		}
		return drain(stream.Recv)
	}}
}

// routerGRPCTarget calls the router's Inference.Complete.
func routerGRPCTarget(addr, key string, maxTokens int) target {
	name := "router, gRPC"
	conn, err := dial(addr)
	if err != nil {
		return target{name: name, call: func(context.Context) error { return err }}
	}
	client := arcertv1.NewInferenceClient(conn)
	req := &arcertv1.CompleteRequest{Model: benchModel, Messages: []*arcertv1.ChatMessage{{Role: "user", Content: benchPrompt}}, MaxTokens: int64(maxTokens)}
	return target{name: name, close: func() { _ = conn.Close() }, call: func(ctx context.Context) error {
		stream, err := client.Complete(bearer(ctx, key), req)
		if err != nil {
			return err
		}
		return drain(stream.Recv)
	}}
}

// routerHTTPTarget posts a non-streamed chat completion to the router's OpenAI front door.
func routerHTTPTarget(addr, key string, maxTokens int) target {
	body := []byte(fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}],"max_tokens":%d}`, benchModel, benchPrompt, maxTokens))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0}}
	url := "http://" + addr + "/v1/chat/completions"
	return target{name: "router, OpenAI HTTP", close: client.CloseIdleConnections, call: func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d, outcome %s/%s", resp.StatusCode, resp.Header.Get("ARuntime-Outcome"), resp.Header.Get("ARuntime-Outcome-Reason"))
		}
		return nil
	}}
}
