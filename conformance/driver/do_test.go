package driver

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// tokenGap spaces a fake stream's tokens so ITL is measurable.
const tokenGap = 5 * time.Millisecond

func noViolations(t *testing.T, res Result) {
	t.Helper()
	if len(res.ContractViolations) > 0 {
		t.Errorf("unexpected contract violations: %q", res.ContractViolations)
	}
}

func TestDoPlainConformant(t *testing.T) {
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		writeOutcome(w, outcome.Completed, outcome.ReasonNone, servedHere)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(openai.CompletionResponse{
			Object:  "chat.completion",
			Choices: []openai.Choice{{Message: &openai.ChatMessage{Role: "assistant", Content: "hello"}, FinishReason: "stop"}},
			Usage:   openai.Usage{PromptTokens: 3, CompletionTokens: 1, TotalTokens: 4},
			Outcome: &openai.Outcome{Class: outcome.Completed, Reason: outcome.ReasonNone, ServedBy: servedHere},
		})
	})
	res, err := c.Do(t.Context(), chatCall(false))
	if err != nil {
		t.Fatal(err)
	}
	noViolations(t, res)
	if res.Status != 200 || res.Outcome != outcome.Completed || res.Reason != outcome.ReasonNone ||
		res.HeaderOutcome != outcome.Completed || res.ServedBy != servedHere || res.RequestID != "req-1" {
		t.Errorf("result = %+v", res)
	}
	if res.Text != "hello" || res.Tokens != 1 || res.Usage.TotalTokens != 4 {
		t.Errorf("text %q tokens %d usage %+v", res.Text, res.Tokens, res.Usage)
	}
	if res.TTFT <= 0 || res.TTFT > res.Latency || res.Indeterminate {
		t.Errorf("TTFT %v latency %v indeterminate %v", res.TTFT, res.Latency, res.Indeterminate)
	}
}

func TestDoStreamConformant(t *testing.T) {
	for _, tc := range []struct {
		path  string
		chunk func(string) openai.Chunk
	}{{PathChatCompletions, chatChunk}, {PathCompletions, textChunk}} {
		t.Run(tc.path, func(t *testing.T) {
			c := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Accept") != "text/event-stream" {
					t.Errorf("Accept = %q", r.Header.Get("Accept"))
				}
				startStream(w, outcome.Completed, outcome.ReasonNone)
				for _, s := range []string{"a", "b", "c"} {
					sse(w, tc.chunk(s))
					time.Sleep(tokenGap)
				}
				sse(w, finalChunk(outcome.Rerouted, outcome.ReasonRegionFailover, servedHere))
				sse(w, "[DONE]")
				w.Header().Set(http.TrailerPrefix+outcome.HeaderOutcome, string(outcome.Rerouted))
				w.Header().Set(http.TrailerPrefix+outcome.HeaderReason, string(outcome.ReasonRegionFailover))
				w.Header().Set(http.TrailerPrefix+outcome.HeaderServedBy, servedHere.String())
			})
			call := chatCall(true)
			call.Path = tc.path
			var seen []int
			call.OnContent = func(n int) { seen = append(seen, n) }
			res, err := c.Do(t.Context(), call)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seen, []int{1, 2, 3}) {
				t.Errorf("OnContent saw %v, want one call per chunk with the count so far", seen)
			}
			noViolations(t, res)
			if res.Outcome != outcome.Rerouted || res.Reason != outcome.ReasonRegionFailover ||
				res.HeaderOutcome != outcome.Completed || res.ServedBy != servedHere {
				t.Errorf("outcome %s/%s header %s served %+v", res.Outcome, res.Reason, res.HeaderOutcome, res.ServedBy)
			}
			if res.Text != "abc" || res.Tokens != 3 || len(res.ITL) != 2 || res.Usage.PromptTokensDetails.CachedTokens != 8 {
				t.Errorf("text %q tokens %d ITL %v usage %+v", res.Text, res.Tokens, res.ITL, res.Usage)
			}
			// The gaps are the client's: a loaded machine may deliver two chunks together and the
			// next one late, so only their sum, at least the server's two sleeps less one, is sure.
			var spanned time.Duration
			for _, d := range res.ITL {
				spanned += d
			}
			if spanned < tokenGap || res.TTFT <= 0 || res.TTFT >= res.Latency {
				t.Errorf("ITL %v TTFT %v latency %v", res.ITL, res.TTFT, res.Latency)
			}
		})
	}
}

func TestDoMidStreamFailure(t *testing.T) {
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		startStream(w, outcome.Completed, outcome.ReasonNone)
		sse(w, chatChunk("par"))
		sse(w, chatChunk("tial"))
		sse(w, openai.ErrorBody{
			Error:   openai.ErrorDetail{Message: "worker lost", Type: "server_error", Code: "worker_lost"},
			Outcome: &openai.Outcome{Class: outcome.Failed, Reason: outcome.ReasonWorkerLost},
		})
		sse(w, "[DONE]")
	})
	res, err := c.Do(t.Context(), chatCall(true))
	if err != nil {
		t.Fatal(err)
	}
	noViolations(t, res)
	if !res.MidStreamError || res.Outcome != outcome.Failed || res.Reason != outcome.ReasonWorkerLost ||
		res.HeaderOutcome != outcome.Completed || res.Error == nil || res.Error.Code != "worker_lost" {
		t.Errorf("result = %+v", res)
	}
	if res.Text != "partial" || res.Tokens != 2 {
		t.Errorf("text %q tokens %d", res.Text, res.Tokens)
	}
}

func TestDoShedWithRetryAfter(t *testing.T) {
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "2")
		errorBody(w, http.StatusTooManyRequests, outcome.Shed, outcome.ReasonQueueFull)
	})
	// A stream refused before it starts answers with a plain error body.
	res, err := c.Do(t.Context(), chatCall(true))
	if err != nil {
		t.Fatal(err)
	}
	noViolations(t, res)
	if res.Status != 429 || res.Outcome != outcome.Shed || res.Reason != outcome.ReasonQueueFull ||
		res.RetryAfter != 2*time.Second || res.Error == nil || res.Tokens != 0 {
		t.Errorf("result = %+v", res)
	}
}

func TestDoConnectionReset(t *testing.T) {
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_ = conn.(*net.TCPConn).SetLinger(0) // close with RST
		_ = conn.Close()
	})
	res, err := c.Do(t.Context(), chatCall(false))
	if !errors.Is(err, ErrTransport) || !res.Indeterminate || res.Status != 0 {
		t.Fatalf("err %v indeterminate %v status %d", err, res.Indeterminate, res.Status)
	}
}

func TestDoResetMidStream(t *testing.T) {
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		startStream(w, outcome.Completed, outcome.ReasonNone)
		sse(w, chatChunk("x"))
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_ = conn.Close()
	})
	res, err := c.Do(t.Context(), chatCall(true))
	if !errors.Is(err, ErrTransport) || !res.Indeterminate {
		t.Fatalf("err %v indeterminate %v", err, res.Indeterminate)
	}
	if res.Outcome != "" || res.HeaderOutcome != outcome.Completed || res.Tokens != 1 || res.Text != "x" {
		t.Errorf("result = %+v", res)
	}
}

func TestDoConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	res, err := New("http://"+addr).Do(t.Context(), chatCall(false))
	if !errors.Is(err, ErrTransport) || res.Indeterminate {
		t.Fatalf("err %v indeterminate %v: a refused dial never reached the runtime", err, res.Indeterminate)
	}
}

func TestDoContextDeadline(t *testing.T) {
	release := make(chan struct{})
	c := serve(t, func(_ http.ResponseWriter, r *http.Request) {
		select { // a server notices a client's cancellation only once the body is read
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	res, err := c.Do(ctx, chatCall(false))
	if !errors.Is(err, ErrTransport) || !errors.Is(err, context.DeadlineExceeded) || !res.Indeterminate {
		t.Fatalf("err %v indeterminate %v", err, res.Indeterminate)
	}
}

func TestDoHeadersAndKeys(t *testing.T) {
	var mu sync.Mutex
	var got []http.Header
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		errorBody(w, http.StatusUnauthorized, outcome.Rejected, outcome.ReasonUnauthenticated)
	}, WithAPIKey("default"))
	call := chatCall(false)
	call.Header = http.Header{"X-Tenant-Id": {"other"}}
	if _, err := c.Do(t.Context(), call); err != nil {
		t.Fatal(err)
	}
	call.Key = "tenant-b"
	if _, err := c.Do(t.Context(), call); err != nil {
		t.Fatal(err)
	}
	if a := got[0].Get("Authorization"); a != "Bearer default" {
		t.Errorf("default key: Authorization = %q", a)
	}
	if a := got[1].Get("Authorization"); a != "Bearer tenant-b" {
		t.Errorf("call key: Authorization = %q", a)
	}
	if v := got[0].Get("X-Tenant-ID"); v != "other" {
		t.Errorf("X-Tenant-ID = %q", v)
	}
}

// TestDoConcurrentStreams drives one Client from many goroutines, for the race detector.
func TestDoConcurrentStreams(t *testing.T) {
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		startStream(w, outcome.Completed, outcome.ReasonNone)
		sse(w, chatChunk("a"))
		sse(w, chatChunk("b"))
		sse(w, finalChunk(outcome.Completed, outcome.ReasonNone, servedHere))
		sse(w, "[DONE]")
	})
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			res, err := c.Do(t.Context(), chatCall(true))
			if err != nil || res.Outcome != outcome.Completed || res.Text != "ab" || len(res.ContractViolations) > 0 {
				t.Errorf("err %v result %+v", err, res)
			}
		})
	}
	wg.Wait()
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"0": 0, "17": 17 * time.Second, now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
	} {
		if d, ok := parseRetryAfter(v, now); !ok || d != want {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v", v, d, ok, want)
		}
	}
	for _, v := range []string{"-1", "soon", "1.5"} {
		if _, ok := parseRetryAfter(v, now); ok {
			t.Errorf("parseRetryAfter(%q) accepted", v)
		}
	}
}
