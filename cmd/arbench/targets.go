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
