package runtime

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/config"
)

// inflightConfig is slowConfig with a bound of two requests in flight and queues far above it,
// so that only router.max_inflight can shed: each token takes about 150 ms on the worker.
func inflightConfig(t *testing.T) *config.Config {
	return slowConfig(t, func(c *config.Config) {
		c.Router.MaxInflight = 2
		c.Workers[0].Engine.DecodeStepBase = 150 * time.Millisecond
		c.TrafficClasses[0].QueueCapacity = 100
	})
}

// TestFloodPastMaxInflightIsShedAtOnce: of twelve requests sent together, those past the bound
// of two are answered 503 shed/capacity with Retry-After at once (in under half the time one
// admitted request takes), the admitted ones are served, and the places are given back afterwards.
func TestFloodPastMaxInflightIsShedAtOnce(t *testing.T) {
	rt := start(t, inflightConfig(t))
	const n = 12
	rs := make([]response, n)
	took := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			t0 := time.Now()
			rs[i] = post(t, rt, "/v1/chat/completions", acmeKey, chat("hello", 6), nil)
			took[i] = time.Since(t0)
		})
	}
	wg.Wait()
	completed, shed := count(rs, "completed", "none"), count(rs, "shed", "capacity")
	if completed+shed != n || completed < 2 || shed == 0 {
		t.Fatalf("completed %d, shed/capacity %d of %d", completed, shed, n)
	}
	for i, r := range rs {
		if r.header.Get("ARuntime-Outcome") != "shed" {
			continue
		}
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" || r.header.Get("X-Request-Id") == "" {
			t.Errorf("shed response %d: status %d, headers %v", i, r.status, r.header)
		}
		if !strings.Contains(string(r.body), `"capacity"`) {
			t.Errorf("shed response %d body %s does not state its reason", i, r.body)
		}
		// One admitted request takes about 900 ms on the worker; a shed one waits for nothing.
		if took[i] > 400*time.Millisecond {
			t.Errorf("shed response %d took %v", i, took[i])
		}
	}
	// The places were given back: a request now is served.
	expectOutcome(t, post(t, rt, "/v1/chat/completions", acmeKey, chat("again", 1), nil), http.StatusOK, "completed", "none")
}

// TestGRPCPastMaxInflightIsShed: with the bound taken by HTTP requests, a gRPC completion ends
// UNAVAILABLE with the contract's shed/capacity trailers.
func TestGRPCPastMaxInflightIsShed(t *testing.T) {
	rt := start(t, inflightConfig(t))
	// Two holders keep both places taken with long requests (10 tokens, about 1.5 s each),
	// sending again whenever one ends (or was itself shed), until the probe is answered.
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				post(t, rt, "/v1/chat/completions", acmeKey, chat("hold", 10), nil)
			}
		})
	}
	defer wg.Wait()
	defer close(done)
	conn, err := grpc.NewClient(rt.Topology().GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	client := arcertv1.NewInferenceClient(conn)
	req := &arcertv1.CompleteRequest{Model: model, Messages: []*arcertv1.ChatMessage{{Role: "user", Content: "over grpc"}}, MaxTokens: 1}
	// Eventually: the two HTTP requests are in flight once both are past the door.
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		stream, err := client.Complete(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+acmeKey), req)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		for err == nil {
			_, err = stream.Recv()
		}
		cancel()
		tr := stream.Trailer()
		if errors.Is(err, io.EOF) {
			if time.Now().After(deadline) {
				t.Fatal("no gRPC call was shed while two HTTP requests held the bound")
			}
			continue // served: an HTTP request was not in flight yet
		}
		if status.Code(err) != codes.Unavailable || strings.Join(tr.Get("arcert-outcome"), ",") != "shed" ||
			strings.Join(tr.Get("arcert-outcome-reason"), ",") != "capacity" || len(tr.Get("x-request-id")) != 1 {
			t.Fatalf("err %v, trailer %v; want UNAVAILABLE and shed/capacity", err, tr)
		}
		return
	}
}

// TestOversizedHeadersAre431: a header block past the router's 64 KiB bound is refused with 431
// before the request reaches a handler; one just under it is served.
func TestOversizedHeadersAre431(t *testing.T) {
	rt := start(t, devConfig(t))
	r := post(t, rt, "/v1/chat/completions", acmeKey, chat("big", 1), map[string]string{"X-Padding": strings.Repeat("a", 80<<10)})
	if r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("80 KiB of headers: status %d, want 431", r.status)
	}
	r = post(t, rt, "/v1/chat/completions", acmeKey, chat("big", 1), map[string]string{"X-Padding": strings.Repeat("a", 32<<10)})
	expectOutcome(t, r, http.StatusOK, "completed", "none")
}
