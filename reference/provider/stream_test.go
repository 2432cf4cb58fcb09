package provider

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aruntime/arcert/api/openai"
)

// upstream serves body with contentType and status for any request.
func upstream(t *testing.T, status int, contentType, body string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

const (
	piece1 = `data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}` + "\n\n"
	piece2 = `data: {"choices":[{"index":0,"delta":{"content":"b"},"finish_reason":"stop"}]}` + "\n\n"
)

func TestStreamProtocol(t *testing.T) {
	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		body        string
		pieces      string
		err         error
		finish      string
		reported    bool
	}{
		{"no usage reported: pieces are counted", 200, "text/event-stream", ": keep-alive\n\n" + piece1 + piece2 + "data: [DONE]\n\n", "ab", nil, "stop", false},
		{"finish reason but no [DONE]", 200, "text/event-stream", piece1 + piece2, "ab", nil, "stop", false},
		{"truncated stream", 200, "text/event-stream", piece1, "a", ErrUnavailable, "", false},
		{"error event mid-stream", 200, "text/event-stream", piece1 + `data: {"error":{"message":"engine died"}}` + "\n\n", "a", ErrUnavailable, "", false},
		{"malformed event", 200, "text/event-stream", piece1 + "data: {not json\n\n", "a", ErrUnavailable, "", false},
		{"other choices ignored", 200, "text/event-stream", `data: {"choices":[{"index":1,"delta":{"content":"x"}}]}` + "\n\n" + piece1 + piece2 + "data: [DONE]\n\n", "ab", nil, "stop", false},
		{"whole JSON answer", 200, "application/json; charset=utf-8",
			`{"choices":[{"index":0,"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`,
			"whole", nil, "stop", true},
		{"429 is unavailable", 429, "application/json", `{"error":{"message":"slow down"}}`, "", ErrUnavailable, "", false},
		{"502 with a plain body", 502, "text/plain", "bad gateway", "", ErrUnavailable, "", false},
		{"404 is the runtime's mapping, not the tenant", 404, "application/json", `{"error":{"message":"no such model"}}`, "", ErrUnavailable, "", false},
		{"422 is the request's fault", 422, "application/json", `{"error":{"message":"stop too long"}}`, "", ErrRejected, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := upstream(t, tc.status, tc.contentType, tc.body)
			var got strings.Builder
			u, err := New(s.URL, "k", nil).Stream(t.Context(), chat("m", "hi", 2), func(p string) error {
				got.WriteString(p)
				return nil
			})
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("Stream error = %v, want %v", err, tc.err)
			}
			if got.String() != tc.pieces || u.FinishReason != tc.finish || u.Reported != tc.reported {
				t.Errorf("pieces %q, usage %+v; want %q, finish %q, reported %v", got.String(), u, tc.pieces, tc.finish, tc.reported)
			}
			if !tc.reported && tc.err == nil && u.CompletionTokens != len(tc.pieces) {
				t.Errorf("counted %d completion tokens, want %d", u.CompletionTokens, len(tc.pieces))
			}
			var ue *UpstreamError
			if tc.status != 200 && (!errors.As(err, &ue) || ue.Status != tc.status || ue.Message == "") {
				t.Errorf("error %v is not an UpstreamError with status %d and a message", err, tc.status)
			}
		})
	}
}

// TestRedirectNotFollowed: a redirect could carry the provider key to another host, so the client
// stops at it and the host it points to never hears from the runtime.
func TestRedirectNotFollowed(t *testing.T) {
	var reached atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Store(true) }))
	t.Cleanup(target.Close)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)

	_, err := New(redirector.URL, "k", nil).Stream(t.Context(), chat("m", "hi", 1), func(string) error { return nil })
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "not followed") {
		t.Errorf("redirect: %v, want ErrUnavailable saying it was not followed", err)
	}
	if reached.Load() {
		t.Error("the redirect target was reached")
	}
}

func TestOutboundRefusesWhatItCannotKeep(t *testing.T) {
	two := int64(2)
	prompt := "p"
	for name, req := range map[string]openai.CompletionRequest{
		"several choices":     {Model: "m", Prompt: &prompt, N: &two},
		"messages and prompt": {Model: "m", Prompt: &prompt, Messages: []openai.ChatMessage{{Role: "user", Content: "x"}}},
		"neither":             {Model: "m"},
	} {
		if _, _, err := outbound(req); !errors.Is(err, ErrRejected) {
			t.Errorf("%s: %v, want ErrRejected", name, err)
		}
	}
}
