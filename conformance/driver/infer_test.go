package driver

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
)

// respond imitates a runtime that answers every call with status, body and headers (name, value
// pairs), as a third-party runtime does: no ARuntime header anywhere.
func respond(status int, body string, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(body, "<") {
			w.Header().Set("Content-Type", "text/html")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// want is an expected inferred outcome.
type want struct {
	class  outcome.Class
	reason outcome.Reason
}

// checkInferred asserts an inferred outcome, that its reason is one of its class, and that no
// contract word was listed as a violation.
func checkInferred(t *testing.T, res Result, w want) {
	t.Helper()
	if !res.Inferred || res.InferredFrom == "" {
		t.Errorf("not marked inferred: %+v", res)
	}
	if res.Outcome != w.class || res.Reason != w.reason {
		t.Errorf("inferred %s/%s from %q, want %s/%s", res.Outcome, res.Reason, res.InferredFrom, w.class, w.reason)
	}
	if res.Reason.Class() != res.Outcome {
		t.Errorf("reason %s is not of class %s", res.Reason, res.Outcome)
	}
	for _, v := range res.ContractViolations {
		if strings.Contains(v, "ARuntime") || strings.Contains(v, "aruntime_outcome") || strings.Contains(v, "X-Request-Id") ||
			strings.Contains(v, "OpenAI error body") {
			t.Errorf("contract word listed while inferring: %q", v)
		}
	}
}

// oai renders an OpenAI-shaped error body; code is raw JSON (null, a string, a number).
func oai(message, typ, code string) string {
	return `{"error":{"message":"` + message + `","type":"` + typ + `","param":null,"code":` + code + `}}`
}

// TestInferRefusals: the refusals of real runtimes, in their own shapes, map to the contract's
// classes and reasons.
func TestInferRefusals(t *testing.T) {
	mapped := []Rule{{Status: 503, Type: "api_error", Class: outcome.Failed, Reason: outcome.ReasonNoHealthyWorker}}
	for _, tc := range []struct {
		name  string
		h     http.HandlerFunc
		rules []Rule
		want  want
		retry time.Duration
	}{
		// Ollama's OpenAI layer: type from the status, code null (openai.NewError).
		{name: "ollama 400", h: respond(400, oai("invalid message format", "invalid_request_error", "null")),
			want: want{outcome.Rejected, outcome.ReasonInvalidRequest}},
		{name: "ollama unknown model", h: respond(404, oai(`model \"x\" not found, try pulling it first`, "not_found_error", "null")),
			want: want{outcome.Rejected, outcome.ReasonUnknownModel}},
		{name: "ollama queue full", h: respond(503, oai("server busy, please try again.  maximum pending requests exceeded", "api_error", "null")),
			want: want{outcome.Shed, outcome.ReasonCapacity}},
		{name: "ollama queue full, target map", h: respond(503, oai("server busy", "api_error", "null")), rules: mapped,
			want: want{outcome.Failed, outcome.ReasonNoHealthyWorker}},
		{name: "target map for another status", h: respond(500, oai("boom", "api_error", "null")), rules: mapped,
			want: want{outcome.Failed, outcome.ReasonInternal}},
		{name: "ollama 500", h: respond(500, oai("llama runner process has terminated", "api_error", "null")),
			want: want{outcome.Failed, outcome.ReasonInternal}},
		// A key gateway in front (nginx): HTML bodies, or none.
		{name: "gateway 401 html", h: respond(401, "<html><body>401 Authorization Required</body></html>"),
			want: want{outcome.Rejected, outcome.ReasonUnauthenticated}},
		{name: "gateway 403", h: respond(403, ""), want: want{outcome.Rejected, outcome.ReasonForbidden}},
		{name: "gateway 404 no body", h: respond(404, "404 page not found"), want: want{outcome.Rejected, outcome.ReasonNotFound}},
		{name: "gateway 413", h: respond(413, "<html>413 Request Entity Too Large</html>"), want: want{outcome.Rejected, outcome.ReasonBodyTooLarge}},
		{name: "gateway 502", h: respond(502, "<html>502 Bad Gateway</html>"), want: want{outcome.Failed, outcome.ReasonDependencyUnavailable}},
		{name: "gateway 504", h: respond(504, ""), want: want{outcome.TimedOut, outcome.ReasonDeadline}},
		// OpenAI.
		{name: "openai bad key", h: respond(401, oai("Incorrect API key provided", "invalid_request_error", `"invalid_api_key"`)),
			want: want{outcome.Rejected, outcome.ReasonUnauthenticated}},
		{name: "openai rate limit", h: respond(429, oai("Rate limit reached", "requests", `"rate_limit_exceeded"`), "Retry-After", "20"),
			want: want{outcome.Rejected, outcome.ReasonQuotaExceeded}, retry: 20 * time.Second},
		{name: "openai overloaded", h: respond(503, oai("That model is currently overloaded", "server_error", `"server_is_overloaded"`)),
			want: want{outcome.Shed, outcome.ReasonCapacity}},
		{name: "openai context", h: respond(400, oai("This model's maximum context length is 8192 tokens", "invalid_request_error", `"context_length_exceeded"`)),
			want: want{outcome.Rejected, outcome.ReasonContextLengthExceeded}},
		{name: "openai unknown model", h: respond(404, oai("The model `x` does not exist", "invalid_request_error", `"model_not_found"`)),
			want: want{outcome.Rejected, outcome.ReasonUnknownModel}},
		// vLLM: the status as a numeric code, the exception's name as type.
		{name: "vllm context", h: respond(400, oai("This model's maximum context length is 2048 tokens. However, you requested 4000 tokens.", "BadRequestError", "400")),
			want: want{outcome.Rejected, outcome.ReasonContextLengthExceeded}},
		{name: "vllm unknown model", h: respond(404, oai("The model `x` does not exist.", "NotFoundError", "404")),
			want: want{outcome.Rejected, outcome.ReasonUnknownModel}},
		{name: "vllm top-level error", h: respond(400, `{"object":"error","message":"temperature must be non-negative","type":"BadRequestError","param":null,"code":400}`),
			want: want{outcome.Rejected, outcome.ReasonInvalidRequest}},
		{name: "vllm auth", h: respond(401, `{"error":"Unauthorized"}`), want: want{outcome.Rejected, outcome.ReasonUnauthenticated}},
		// TGI: a string error and error_type.
		{name: "tgi overloaded", h: respond(429, `{"error":"Model is overloaded","error_type":"overloaded"}`, "Retry-After", "1"),
			want: want{outcome.Shed, outcome.ReasonQueueFull}, retry: time.Second},
		{name: "tgi validation", h: respond(422, `{"error":"Input validation error: inputs must have less than 4096 tokens","error_type":"validation"}`),
			want: want{outcome.Rejected, outcome.ReasonInvalidRequest}},
		{name: "tgi generation", h: respond(424, `{"error":"Request failed during generation","error_type":"generation"}`),
			want: want{outcome.Rejected, outcome.ReasonInvalidRequest}},
		// llama.cpp server.
		{name: "llama.cpp loading", h: respond(503, `{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}`),
			want: want{outcome.Failed, outcome.ReasonNoHealthyWorker}},
		{name: "llama.cpp context", h: respond(400, `{"error":{"code":400,"message":"the request exceeds the available context size","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}}`),
			want: want{outcome.Rejected, outcome.ReasonContextLengthExceeded}},
		{name: "llama.cpp not supported", h: respond(501, `{"error":{"code":501,"message":"This server does not support completions.","type":"not_supported_error"}}`),
			want: want{outcome.Rejected, outcome.ReasonInvalidRequest}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, stream := range []bool{false, true} { // a stream refused before it starts is a plain body
				res, err := serve(t, tc.h, WithInferredOutcomes(tc.rules...)).Do(t.Context(), chatCall(stream))
				if err != nil {
					t.Fatal(err)
				}
				checkInferred(t, res, tc.want)
				if res.Outcome.Served() || res.RetryAfter != tc.retry {
					t.Errorf("served %v, Retry-After %v", res.Outcome.Served(), res.RetryAfter)
				}
			}
		})
	}
}

// TestInferredEvidence: the evidence names the status, the error and the rule that decided, and
// a peer's error is recorded as an error object.
func TestInferredEvidence(t *testing.T) {
	c := serve(t, respond(400, oai("This model's maximum context length is 2048 tokens", "BadRequestError", "400")), WithInferredOutcomes())
	res, err := c.Do(t.Context(), chatCall(false))
	if err != nil {
		t.Fatal(err)
	}
	if res.Error == nil || res.Error.Code != "400" || res.Error.Type != "BadRequestError" {
		t.Errorf("error object %+v", res.Error)
	}
	for _, w := range []string{"status 400", `error type "BadRequestError"`, `code "400"`, "maximum context length"} {
		if !strings.Contains(res.InferredFrom, w) {
			t.Errorf("evidence %q lacks %q", res.InferredFrom, w)
		}
	}
	c = serve(t, respond(503, oai("busy", "api_error", "null")),
		WithInferredOutcomes(Rule{Code: "x", Class: outcome.Shed, Reason: outcome.ReasonDraining},
			Rule{Status: 503, Class: outcome.Shed, Reason: outcome.ReasonDraining}))
	if res, _ = c.Do(t.Context(), chatCall(false)); !strings.HasSuffix(res.InferredFrom, "the target's map, rule 2") ||
		res.Reason != outcome.ReasonDraining {
		t.Errorf("rule 2 should decide: %s/%s from %q", res.Outcome, res.Reason, res.InferredFrom)
	}
}

// TestInferenceTable lists every documented code and type and every status the defaults name,
// each with a class and a reason of that class.
func TestInferenceTable(t *testing.T) {
	table := InferenceTable()
	for k := range knownCodes {
		if !strings.Contains(table, "error code `"+k+"`") {
			t.Errorf("code %s missing", k)
		}
	}
	for k := range knownTypes {
		if !strings.Contains(table, "error type `"+k+"`") {
			t.Errorf("type %s missing", k)
		}
	}
	for _, s := range tableStatuses {
		c, r := byStatus(s, true)
		if r.Class() != c || !strings.Contains(table, fmt.Sprintf("| status %d | %s/%s", s, c, r)) {
			t.Errorf("status %d: %s/%s", s, c, r)
		}
	}
}

// TestRawBodyIsSentAndInferred: a malformed body sent on purpose (Call.Raw) reaches the runtime
// as written, and its refusal is inferred like any other.
func TestRawBodyIsSentAndInferred(t *testing.T) {
	var got []byte
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		respond(400, oai("invalid character", "invalid_request_error", "null"))(w, r)
	}, WithInferredOutcomes())
	res, err := c.Do(t.Context(), Call{Path: PathChatCompletions, Key: "k", Raw: []byte(`{"model": `)})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"model": ` {
		t.Errorf("the runtime received %q", got)
	}
	checkInferred(t, res, want{outcome.Rejected, outcome.ReasonInvalidRequest})
}
