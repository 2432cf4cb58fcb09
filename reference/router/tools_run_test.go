package router

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/tokenizer"
	"github.com/aruntime/arcert/reference/tooladapter"
)

// toolJob is an admitted acme request whose model called lookup_order.
func toolJob(contextLength int) *job {
	prompt := "user: where is order 7?\n"
	return &job{id: "req-tool-1", principal: identity.Principal{Tenant: "acme", Application: "acme-chat", User: "alice"},
		c: Completion{Chat: true, Prompt: prompt, PromptTokens: tokenizer.Count(prompt), MaxTokens: 4,
			Model:    config.Model{Name: "sim", ContextLength: contextLength},
			Messages: []openai.ChatMessage{{Role: "user", Content: "where is order 7?"}}},
		tool: &toolRun{runtime: true, call: openai.ToolCall{ID: "call_tool-1", Type: "function",
			Function: openai.FunctionCall{Name: "lookup_order", Arguments: `{"order_id":"ord-7"}`}}}}
}

// toolRouter is a router whose tool adapter is answer, with a 200ms call bound.
func toolRouter(t *testing.T, answer http.HandlerFunc) *Router {
	t.Helper()
	ad := httptest.NewServer(answer)
	t.Cleanup(ad.Close)
	cfg := &config.Config{Tools: config.Tools{Served: []string{"lookup_order"}, RouterKey: "router-key", CallTimeout: 200 * time.Millisecond}}
	return &Router{cfg: cfg, log: slog.New(slog.DiscardHandler), tools: tooladapter.NewClient(ad.URL, "router-key")}
}

// TestRunToolAppendsTheResult: the adapter is asked with the router's key and the context bound
// at admission; its result joins the conversation and the prompt is counted again with it.
func TestRunToolAppendsTheResult(t *testing.T) {
	var got tooladapter.CallRequest
	var auth string
	r := toolRouter(t, func(w http.ResponseWriter, req *http.Request) {
		auth = req.Header.Get("Authorization")
		b, _ := io.ReadAll(req.Body)
		_ = json.Unmarshal(b, &got)
		_, _ = w.Write([]byte(`{"text":"{\"order_id\":\"ord-7\",\"status\":\"shipped\"}"}`))
	})
	j := toolJob(4096)
	before := j.c.PromptTokens
	if end := r.runTool(context.Background(), j); end.reason != "" {
		t.Fatalf("ended %s: %s", end.reason, end.message)
	}
	if auth != "Bearer router-key" || got.Tenant != "acme" || got.Application != "acme-chat" || got.User != "alice" || got.RequestID != "req-tool-1" || got.Tool != "lookup_order" {
		t.Fatalf("adapter asked with %q and %+v", auth, got)
	}
	msgs := j.c.Messages
	if len(msgs) != 3 || msgs[1].Role != "assistant" || len(msgs[1].ToolCalls) != 1 || msgs[2].Role != "tool" || msgs[2].ToolCallID != "call_tool-1" || !strings.Contains(msgs[2].Content, "shipped") {
		t.Fatalf("conversation %+v, want the call and its result appended", msgs)
	}
	if !strings.Contains(j.c.Prompt, "shipped") || j.c.PromptTokens != tokenizer.Count(j.c.Prompt) || j.c.PromptTokens <= before {
		t.Fatalf("prompt %d tokens (was %d) for %q: not counted again with the result", j.c.PromptTokens, before, j.c.Prompt)
	}
	if c := j.tool.calls; len(c) != 1 || c[0].Outcome != toolCallOK || c[0].Side != toolSideRuntime {
		t.Fatalf("evidence %+v, want one ok runtime-side call", c)
	}
}

// TestRunToolEndings: how a call that cannot complete ends the request, and that the tenant's
// message never carries the adapter's address.
func TestRunToolEndings(t *testing.T) {
	slow := func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-req.Context().Done():
		case <-time.After(400 * time.Millisecond):
		}
	}
	tests := []struct {
		name     string
		adapter  http.HandlerFunc
		deadline time.Duration // the request's own; 0 for none
		context  int
		reason   outcome.Reason
		evidence string
	}{
		{"adapter unavailable", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }, 0, 4096, outcome.ReasonToolUnavailable, toolCallUnavailable},
		{"call bound passes first", slow, 0, 4096, outcome.ReasonToolUnavailable, toolCallUnavailable},
		{"request deadline passes first", slow, 50 * time.Millisecond, 4096, outcome.ReasonDeadline, toolCallUnavailable},
		{"result too large", func(w http.ResponseWriter, _ *http.Request) {
			_ = json.NewEncoder(w).Encode(tooladapter.CallResult{Text: strings.Repeat("x", tooladapter.MaxResultBytes+1)})
		}, 0, 4096, outcome.ReasonToolUnavailable, toolCallUnavailable},
		{"result overflows the context", func(w http.ResponseWriter, _ *http.Request) {
			_ = json.NewEncoder(w).Encode(tooladapter.CallResult{Text: strings.Repeat("word ", 200)})
		}, 0, 64, outcome.ReasonContextLengthExceeded, toolCallOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := toolRouter(t, tc.adapter)
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			j := toolJob(tc.context)
			end := r.runTool(ctx, j)
			if end.reason != tc.reason {
				t.Fatalf("ended %q (%s), want %q", end.reason, end.message, tc.reason)
			}
			if strings.Contains(end.message, "127.0.0.1") || strings.Contains(end.message, "http") {
				t.Fatalf("message %q carries the adapter's address", end.message)
			}
			if c := j.tool.calls; len(c) != 1 || c[0].Outcome != tc.evidence {
				t.Fatalf("evidence %+v, want one call %s", c, tc.evidence)
			}
		})
	}
}
