package driver

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
)

// Bodies as Ollama's OpenAI layer writes them (middleware/openai.go): chunks with role and
// content, finish_reason on the last, no usage, then data: [DONE].
const (
	ollamaCompletion = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"tiny","system_fingerprint":"fp_ollama",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"hello there"},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`
	ollamaChunk = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"tiny","system_fingerprint":"fp_ollama",` +
		`"choices":[{"index":0,"delta":{"role":"assistant","content":%q},"finish_reason":%s}]}`
)

// chunk is one Ollama content chunk; finish is raw JSON (null or a string).
func chunk(content, finish string) string { return fmt.Sprintf(ollamaChunk, content, finish) }

// sseRuntime imitates a third-party runtime streaming events, each written and flushed; the
// handler's return ends the response cleanly, and cut ends it with a broken connection.
func sseRuntime(cut bool, events ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for _, e := range events {
			sse(w, e)
		}
		if cut {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
		}
	}
}

// TestInferServed: only a complete, well-formed response is served; an empty, malformed or
// unfinished one is failed, whatever its status.
func TestInferServed(t *testing.T) {
	completed := want{outcome.Completed, outcome.ReasonNone}
	failed := want{outcome.Failed, outcome.ReasonInternal}
	for _, tc := range []struct {
		name   string
		stream bool
		h      http.HandlerFunc
		want   want
		tokens int
	}{
		{"ollama completion", false, respond(200, ollamaCompletion), completed, 1},
		{"legacy completions text", false, respond(200, `{"choices":[{"index":0,"text":"hi","finish_reason":"length"}]}`), completed, 1},
		{"empty 200", false, respond(200, ""), failed, 0},
		{"malformed 200", false, respond(200, `{"choices":[{"message":{"content":"hel`), failed, 0},
		{"html 200", false, respond(200, "<html>maintenance</html>"), failed, 0},
		{"no choices", false, respond(200, `{"choices":[]}`), failed, 0},
		{"no finish_reason", false, respond(200, `{"choices":[{"message":{"role":"assistant","content":"hi"},"finish_reason":null}]}`), failed, 1},
		{"ollama stream", true, sseRuntime(false, chunk("hel", "null"), chunk("lo", "null"), chunk("", `"stop"`), "[DONE]"), completed, 2},
		{"stream with usage chunk", true, sseRuntime(false, chunk("a", "null"), chunk("b", `"length"`),
			`{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`, "[DONE]"), completed, 2},
		{"stream ended by finish_reason, no [DONE]", true, sseRuntime(false, chunk("a", "null"), chunk("b", `"stop"`)), completed, 2},
		{"stream ended by [DONE], no finish_reason", true, sseRuntime(false, chunk("a", "null"), "[DONE]"), completed, 1},
		{"finish_reason, then the connection broke", true, sseRuntime(true, chunk("a", `"stop"`)), completed, 1},
		{"truncated stream", true, sseRuntime(false, chunk("a", "null"), chunk("b", "null")), failed, 2},
		{"only [DONE]", true, sseRuntime(false, "[DONE]"), failed, 0},
		{"empty stream", true, sseRuntime(false), failed, 0},
		{"malformed event", true, sseRuntime(false, chunk("a", "null"), `{"choices":[{"delta":`, chunk("", `"stop"`), "[DONE]"), failed, 1},
		{"openai error event", true, sseRuntime(false, chunk("a", "null"),
			oai("The server had an error while processing your request", "server_error", "null"), "[DONE]"), failed, 1},
		{"vllm error event", true, sseRuntime(false, chunk("a", "null"),
			oai("prompt too long", "BadRequestError", "400"), "[DONE]"), want{outcome.Rejected, outcome.ReasonInvalidRequest}, 1},
		{"tgi error event", true, sseRuntime(false, chunk("a", "null"),
			`{"error":"Request failed during generation: CUDA out of memory","error_type":"generation"}`), failed, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := serve(t, tc.h, WithInferredOutcomes()).Do(t.Context(), chatCall(tc.stream))
			if err != nil {
				t.Fatal(err)
			}
			checkInferred(t, res, tc.want)
			if res.Tokens != tc.tokens || res.Indeterminate || !res.ServedBy.IsZero() {
				t.Errorf("tokens %d (want %d), indeterminate %v, served-by %+v", res.Tokens, tc.tokens, res.Indeterminate, res.ServedBy)
			}
			if strings.Contains(tc.name, "error event") && (!res.MidStreamError || res.Error == nil || res.Error.Message == "") {
				t.Errorf("mid-stream error not recorded: %+v", res)
			}
		})
	}
}

// TestInferCutStreamIsIndeterminate: a connection that broke before the stream's end stays
// Indeterminate with the option, as without it; nothing is inferred.
func TestInferCutStreamIsIndeterminate(t *testing.T) {
	c := serve(t, sseRuntime(true, chunk("a", "null")), WithInferredOutcomes())
	res, err := c.Do(t.Context(), chatCall(true))
	if !errors.Is(err, ErrTransport) || !res.Indeterminate || res.Outcome != "" || res.Inferred {
		t.Fatalf("err %v result %+v", err, res)
	}
}

// comparable strips what differs between two runs of the same exchange: timings and the URL.
func comparable(r Result) Result {
	r.Start, r.TTFT, r.Latency, r.ITL, r.Endpoint = time.Time{}, 0, 0, nil, ""
	return r
}

// TestInferOptionChangesNothingForAStatedRuntime: a runtime that states its outcomes is read and
// judged the same with the option as without, violations included; and without the option a
// third-party runtime is judged as before, on the contract's missing header.
func TestInferOptionChangesNothingForAStatedRuntime(t *testing.T) {
	stated := map[string]struct {
		stream bool
		h      http.HandlerFunc
	}{
		"served": {false, plainOK(outcome.Completed, outcome.ReasonNone, servedHere)},
		"refused": {false, func(w http.ResponseWriter, _ *http.Request) {
			errorBody(w, http.StatusServiceUnavailable, outcome.Shed, outcome.ReasonCapacity) // and no Retry-After
		}},
		"no request id": {false, func(w http.ResponseWriter, _ *http.Request) {
			writeOutcome(w, outcome.Completed, outcome.ReasonNone, servedHere)
			w.Header().Del(outcome.HeaderRequestID)
			_, _ = w.Write([]byte(ollamaCompletion))
		}},
		"stream without final event": {true, func(w http.ResponseWriter, _ *http.Request) {
			startStream(w, outcome.Completed, outcome.ReasonNone)
			sse(w, chatChunk("a"))
			sse(w, "[DONE]")
		}},
	}
	for name, tc := range stated {
		t.Run(name, func(t *testing.T) {
			plain, err1 := serve(t, tc.h).Do(t.Context(), chatCall(tc.stream))
			inferring, err2 := serve(t, tc.h, WithInferredOutcomes()).Do(t.Context(), chatCall(tc.stream))
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if len(plain.ContractViolations) == 0 && name != "served" {
				t.Fatalf("the case breaks the contract but nothing was listed")
			}
			if a, b := comparable(plain), comparable(inferring); !reflect.DeepEqual(a, b) {
				t.Errorf("with the option the result changed:\n without %+v\n with    %+v", a, b)
			}
		})
	}
	res, err := serve(t, respond(200, ollamaCompletion)).Do(t.Context(), chatCall(false))
	if err != nil {
		t.Fatal(err)
	}
	if res.Inferred || res.Outcome != "" || !containsViolation(res.ContractViolations, "missing ARuntime-Outcome header") {
		t.Errorf("without the option a third-party runtime must be judged on the contract: %+v", res)
	}
}

// TestInferKeepsProtocolViolations: inferring withdraws only the contract's missing words; a
// response that breaks the OpenAI protocol itself is still listed.
func TestInferKeepsProtocolViolations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream bool
		h      http.HandlerFunc
		want   string
	}{
		{"malformed 200", false, respond(200, `{"choices":[`), "200 body is not a completion"},
		{"no [DONE]", true, sseRuntime(false, chunk("a", `"stop"`)), "stream ended without data: [DONE]"},
		{"event not JSON", true, sseRuntime(false, "{oops", "[DONE]"), "stream event is not JSON"},
		{"plain answer to a stream", true, respond(200, ollamaCompletion), "not text/event-stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := serve(t, tc.h, WithInferredOutcomes()).Do(t.Context(), chatCall(tc.stream))
			if err != nil {
				t.Fatal(err)
			}
			if !res.Inferred || !containsViolation(res.ContractViolations, tc.want) {
				t.Errorf("inferred %v, violations %q lack %q", res.Inferred, res.ContractViolations, tc.want)
			}
			if containsViolation(res.ContractViolations, "ARuntime-Outcome") || containsViolation(res.ContractViolations, "X-Request-Id") {
				t.Errorf("contract words listed: %q", res.ContractViolations)
			}
		})
	}
}

// TestInferStatedStreamCutAfterFinishReason: for a runtime that states its outcomes, a stream
// cut after a finish_reason but before the final outcome event stays Indeterminate with the
// option, as without it.
func TestInferStatedStreamCutAfterFinishReason(t *testing.T) {
	h := func(w http.ResponseWriter, _ *http.Request) {
		startStream(w, outcome.Completed, outcome.ReasonNone)
		sse(w, chunk("a", `"stop"`))
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
	}
	for _, opts := range [][]Option{nil, {WithInferredOutcomes()}} {
		res, err := serve(t, h, opts...).Do(t.Context(), chatCall(true))
		if !errors.Is(err, ErrTransport) || !res.Indeterminate || res.Inferred {
			t.Errorf("options %d: err %v result %+v", len(opts), err, res)
		}
	}
}
