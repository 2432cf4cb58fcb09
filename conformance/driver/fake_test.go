package driver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// servedHere is the served-by of every fake runtime that serves.
var servedHere = outcome.ServedBy{Region: "eu-west", Pool: "a", Deployment: "llama-8b"}

// serve starts a fake runtime for one test and returns a Client for it.
func serve(t *testing.T, h http.HandlerFunc, opts ...Option) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return New(srv.URL+"/", opts...)
}

// writeOutcome sets the contract's response headers.
func writeOutcome(w http.ResponseWriter, c outcome.Class, r outcome.Reason, sb outcome.ServedBy) {
	h := w.Header()
	h.Set(outcome.HeaderRequestID, "req-1")
	if c != "" {
		h.Set(outcome.HeaderOutcome, string(c))
	}
	if r != "" {
		h.Set(outcome.HeaderReason, string(r))
	}
	if !sb.IsZero() {
		h.Set(outcome.HeaderServedBy, sb.String())
	}
}

// sse writes one data event and flushes it, as a runtime does per token.
func sse(w http.ResponseWriter, v any) {
	if s, ok := v.(string); ok {
		_, _ = fmt.Fprintf(w, "data: %s\n\n", s)
	} else {
		b, _ := json.Marshal(v)
		_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
	}
	w.(http.Flusher).Flush()
}

// chatChunk is one chat content chunk.
func chatChunk(s string) openai.Chunk {
	return openai.Chunk{Object: "chat.completion.chunk", Choices: []openai.ChunkChoice{{Delta: &openai.Delta{Content: s}}}}
}

// textChunk is one completions content chunk.
func textChunk(s string) openai.Chunk {
	return openai.Chunk{Object: "text_completion", Choices: []openai.ChunkChoice{{Text: &s}}}
}

// finalChunk is the contract's last data event before [DONE].
func finalChunk(c outcome.Class, r outcome.Reason, sb outcome.ServedBy) openai.Chunk {
	return openai.Chunk{
		Choices: []openai.ChunkChoice{},
		Usage: &openai.Usage{PromptTokens: 10, CompletionTokens: 3, TotalTokens: 13,
			PromptTokensDetails: openai.PromptTokensDetails{CachedTokens: 8}},
		Outcome: &openai.Outcome{Class: c, Reason: r, ServedBy: sb},
	}
}

// startStream writes the headers of a stream whose first token is ready.
func startStream(w http.ResponseWriter, c outcome.Class, r outcome.Reason) {
	writeOutcome(w, c, r, servedHere)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
}

// errorBody writes the contract's error response.
func errorBody(w http.ResponseWriter, status int, c outcome.Class, r outcome.Reason) {
	writeOutcome(w, c, r, outcome.ServedBy{})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(openai.ErrorBody{
		Error:   openai.ErrorDetail{Message: string(r), Type: "error", Code: string(r)},
		Outcome: &openai.Outcome{Class: c, Reason: r},
	})
}

// chatCall is a small chat request.
func chatCall(stream bool) Call {
	return Call{Path: PathChatCompletions, Body: openai.CompletionRequest{
		Model: "llama-8b", Stream: stream, Messages: []openai.ChatMessage{{Role: "user", Content: "hi"}},
	}}
}
