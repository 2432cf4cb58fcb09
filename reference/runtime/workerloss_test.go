package runtime

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/internal/testrelay"
)

// TestWorkerLostMidStream: when the worker's link is cut mid-stream, the stream ends with an error
// event and trailer saying failed/worker_lost, and the next request is failed/no_healthy_worker
// rather than hanging.
func TestWorkerLostMidStream(t *testing.T) {
	cfg := slowConfig(t, nil)
	id := cfg.Workers[0].ID
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	workers, err := Start(ctx, cfg, Options{Workers: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = workers.Shutdown(ctx) })
	link := testrelay.New(t, workers.Topology().Workers[id])
	cfg.Workers[0].Address = link.Addr()
	rt, err := Start(ctx, cfg, Options{Router: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(ctx) })

	body := chat("a long story", 200)
	body["stream"] = true
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+rt.Topology().HTTP+"/v1/chat/completions", strings.NewReader(string(mustMarshal(t, body))))
	req.Header.Set("Authorization", "Bearer "+acmeKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.Header.Get("ARuntime-Outcome") != "completed" {
		t.Fatalf("stream started with outcome %q", resp.Header.Get("ARuntime-Outcome"))
	}
	first := make([]byte, 1)
	if _, err := io.ReadFull(resp.Body, first); err != nil { // output is flowing
		t.Fatal(err)
	}
	link.Cut()
	rest, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if !strings.Contains(string(rest), `"error"`) || !strings.Contains(string(rest), `"reason":"worker_lost"`) || !strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("stream did not end with a worker_lost error event: %s", rest)
	}
	if resp.Trailer.Get("ARuntime-Outcome") != "failed" || resp.Trailer.Get("ARuntime-Outcome-Reason") != "worker_lost" {
		t.Fatalf("trailer %v", resp.Trailer)
	}
	// What went out before the worker was lost is billed: the prompt and at least the first chunk.
	if rec := recordOf(t, rt, resp.Header.Get("X-Request-Id")); rec.Tokens.Prompt == 0 || rec.Tokens.Completion == 0 {
		t.Fatalf("a stream cut mid-way by a lost worker billed %d prompt and %d completion tokens", rec.Tokens.Prompt, rec.Tokens.Completion)
	}
	next := post(t, rt, "/v1/chat/completions", acmeKey, chat("anyone there?", 1), nil)
	expectOutcome(t, next, http.StatusServiceUnavailable, "failed", "no_healthy_worker")
}
