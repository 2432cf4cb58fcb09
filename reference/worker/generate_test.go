package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/tokenizer"
	"github.com/aruntime/arcert/reference/worker/engine"
)

func TestGenerateStreamsTokensWithUsage(t *testing.T) {
	w := serve(t, testOptions("w1"))
	const prompt = "explain continuous batching to a tenant"
	r := mustGenerate(t, w.client, request("acme", prompt, 7))
	if len(r.texts) != 7 {
		t.Errorf("got %d token messages, want 7", len(r.texts))
	}
	for i, s := range r.texts {
		if s == "" {
			t.Errorf("token %d is empty", i)
		}
	}
	u := r.final.GetUsage()
	if u.GetPromptTokens() != int64(tokenizer.Count(prompt)) || u.GetCompletionTokens() != 7 || u.GetCachedTokens() != 0 {
		t.Errorf("usage = %v, want prompt %d, completion 7, cached 0", u, tokenizer.Count(prompt))
	}
	if r.final.GetFinishReason() != engine.FinishLength || r.final.GetText() != "" {
		t.Errorf("final = %v, want finish_reason %q and no text", r.final, engine.FinishLength)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	w := serve(t, testOptions("w1"))
	req := request("acme", "the same prompt every time", 16)
	a := mustGenerate(t, w.client, req)
	b := mustGenerate(t, w.client, req)
	if a.text() != b.text() {
		t.Errorf("same (model, prompt, seed) gave %q then %q", a.text(), b.text())
	}
	req.Seed++
	if c := mustGenerate(t, w.client, req); c.text() == a.text() {
		t.Errorf("another seed gave the same text %q", c.text())
	}
	// Another worker with the same model must agree, so retries and
	// rerouting are comparable.
	other := serve(t, testOptions("w2"))
	req.Seed--
	if d := mustGenerate(t, other.client, req); d.text() != a.text() {
		t.Errorf("worker w2 gave %q, w1 gave %q", d.text(), a.text())
	}
}

func TestGenerateValidates(t *testing.T) {
	o := testOptions("w1")
	o.Models[0].MaxOutputTokens = 100
	o.Models[1].ContextLength = 10
	w := serve(t, o)
	tests := []struct {
		name   string
		mutate func(*arcertv1.GenerateRequest)
		code   codes.Code
	}{
		{"unknown model", func(r *arcertv1.GenerateRequest) { r.Model = "gpt-nope" }, codes.NotFound},
		{"no tenant context", func(r *arcertv1.GenerateRequest) { r.Tenant = nil }, codes.InvalidArgument},
		{"empty tenant", func(r *arcertv1.GenerateRequest) { r.Tenant.Tenant = "" }, codes.InvalidArgument},
		{"zero max_tokens", func(r *arcertv1.GenerateRequest) { r.MaxTokens = 0 }, codes.InvalidArgument},
		{"negative max_tokens", func(r *arcertv1.GenerateRequest) { r.MaxTokens = -5 }, codes.InvalidArgument},
		{"above max output tokens", func(r *arcertv1.GenerateRequest) { r.MaxTokens = 101 }, codes.InvalidArgument},
		{"empty prompt", func(r *arcertv1.GenerateRequest) { r.Prompt = "  " }, codes.InvalidArgument},
		{"beyond context length", func(r *arcertv1.GenerateRequest) { r.Model, r.MaxTokens = "m2", 8 }, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request("acme", "a b c", 4)
			tt.mutate(req)
			_, err := generate(t.Context(), w.client, req)
			if got := status.Code(err); got != tt.code {
				t.Errorf("code = %v (%v), want %v", got, err, tt.code)
			}
		})
	}
}

func TestGenerateBeyondKVIsInvalidArgument(t *testing.T) {
	o := testOptions("small")
	// 0.9 * 1 GiB - 2 * 0.25 GiB of weights leaves 0.4 GiB for KV: at 1 MiB
	// per token (the hungriest model sizes it), 409 tokens.
	o.Worker.Device.MemoryBytes = gib
	o.Models[0].KVBytesPerToken = 1 << 20
	w := serve(t, o)
	_, err := generate(t.Context(), w.client, request("acme", "short", 1000))
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "kv") {
		t.Errorf("err = %v, want InvalidArgument mentioning kv", err)
	}
	// The same request within capacity is served.
	mustGenerate(t, w.client, request("acme", "short", 100))
}

func TestGenerateOverloadIsResourceExhausted(t *testing.T) {
	o := testOptions("busy")
	o.Worker.Engine.MaxBatch, o.Worker.Engine.MaxWaiting = 1, 1
	// Slow enough that the first request is still decoding while the test
	// fills the queue; the test cancels it rather than waiting.
	o.Worker.Engine.DecodeStepBase = 5 * time.Millisecond
	w := serve(t, o)
	ctx, cancel := context.WithCancel(authed(t.Context(), testToken))
	defer cancel()

	running, err := w.client.Generate(ctx, request("a", "long decode", 100_000))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := running.Recv(); err != nil { // a token means it is in the batch
		t.Fatal(err)
	}
	if _, err := w.client.Generate(ctx, request("b", "queued", 100_000)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one waiting request", func() bool {
		h, err := w.client.Health(ctx, &arcertv1.HealthRequest{})
		return err == nil && h.GetWaiting() == 1 && h.GetRunning() == 1
	})
	_, err = generate(t.Context(), w.client, request("c", "one too many", 4))
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("third request: %v, want ResourceExhausted", err)
	}
	cancel()
	waitFor(t, "cancelled requests to leave the engine", func() bool {
		h, err := w.client.Health(authed(t.Context(), testToken), &arcertv1.HealthRequest{})
		return err == nil && h.GetWaiting() == 0 && h.GetRunning() == 0
	})
	mustGenerate(t, w.client, request("c", "room again", 2))
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err  error
		code codes.Code
	}{
		{engine.ErrOverloaded, codes.ResourceExhausted},
		{fmt.Errorf("submit: %w", engine.ErrOverloaded), codes.ResourceExhausted},
		{engine.ErrTooLarge, codes.InvalidArgument},
		{engine.ErrStopped, codes.Unavailable},
		{engine.ErrInvalid, codes.InvalidArgument},
		{context.DeadlineExceeded, codes.DeadlineExceeded},
		{context.Canceled, codes.Canceled},
		{errors.New("boom"), codes.Internal},
	}
	for _, tt := range tests {
		if got := statusOf(tt.err).Code(); got != tt.code {
			t.Errorf("statusOf(%v) = %v, want %v", tt.err, got, tt.code)
		}
	}
}

// TestGenerateNamesItsWorker: the response header names the worker that answered, so a router
// whose connection reached another worker than it meant can tell (reference/routing).
func TestGenerateNamesItsWorker(t *testing.T) {
	w := serve(t, testOptions("w1"))
	stream, err := w.client.Generate(authed(t.Context(), testToken), request("acme", "who answers", 2))
	if err != nil {
		t.Fatal(err)
	}
	md, err := stream.Header()
	if err != nil {
		t.Fatal(err)
	}
	if got := md.Get(MetadataWorkerID); len(got) != 1 || got[0] != "w1" {
		t.Fatalf("header %s = %q, want [w1]", MetadataWorkerID, got)
	}
	if got := md.Get(MetadataArtifactDigest); len(got) != 1 || got[0] == "" {
		t.Errorf("header %s = %q, want the applied digest", MetadataArtifactDigest, got)
	}
}
