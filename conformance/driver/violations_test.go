package driver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// plainOK answers 200 with a completion under the given headers.
func plainOK(c outcome.Class, r outcome.Reason, sb outcome.ServedBy) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeOutcome(w, c, r, sb)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(openai.CompletionResponse{
			Choices: []openai.Choice{{Message: &openai.ChatMessage{Role: "assistant", Content: "ok"}}},
		})
	}
}

// TestDoContractViolations checks that each way of breaking the contract is recorded, as data,
// with no error.
func TestDoContractViolations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream bool
		h      http.HandlerFunc
		want   string
	}{
		{"missing outcome header", false, plainOK("", "", servedHere), "missing ARuntime-Outcome header"},
		{"missing reason", false, plainOK(outcome.Completed, "", servedHere), "without a reason"},
		{"unknown class", false, plainOK("fine", outcome.ReasonNone, servedHere), `unknown class "fine"`},
		{"unknown reason", false, plainOK(outcome.Completed, "because", servedHere), `unknown reason "because"`},
		{"reason of another class", false, plainOK(outcome.Completed, outcome.ReasonQueueFull, servedHere),
			`reason "queue_full" belongs to class "shed"`},
		{"served without served-by", false, plainOK(outcome.Completed, outcome.ReasonNone, outcome.ServedBy{}),
			"without served-by"},
		{"missing request id", false, func(w http.ResponseWriter, _ *http.Request) {
			writeOutcome(w, outcome.Completed, outcome.ReasonNone, servedHere)
			w.Header().Del(outcome.HeaderRequestID)
			_, _ = w.Write([]byte(`{"choices":[]}`))
		}, "missing X-Request-Id header"},
		{"shed without Retry-After", false, func(w http.ResponseWriter, _ *http.Request) {
			errorBody(w, http.StatusServiceUnavailable, outcome.Shed, outcome.ReasonCapacity)
		}, "shed response without Retry-After"},
		{"error body without outcome", false, func(w http.ResponseWriter, _ *http.Request) {
			writeOutcome(w, outcome.Rejected, outcome.ReasonInvalidRequest, outcome.ServedBy{})
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"message":"bad","type":"invalid_request_error","code":"x"}}`))
		}, "error body has no aruntime_outcome"},
		{"header and body disagree", false, func(w http.ResponseWriter, _ *http.Request) {
			writeOutcome(w, outcome.Rejected, outcome.ReasonQuotaExceeded, outcome.ServedBy{})
			w.WriteHeader(http.StatusTooManyRequests)
			_ = json.NewEncoder(w).Encode(openai.ErrorBody{Error: openai.ErrorDetail{Message: "m"},
				Outcome: &openai.Outcome{Class: outcome.Shed, Reason: outcome.ReasonQueueFull}})
		}, "header says rejected/quota_exceeded but error body says shed/queue_full"},
		{"stream without final event", true, func(w http.ResponseWriter, _ *http.Request) {
			startStream(w, outcome.Completed, outcome.ReasonNone)
			sse(w, chatChunk("a"))
			sse(w, "[DONE]")
		}, "stream ended without a final aruntime_outcome event"},
		{"stream without DONE", true, func(w http.ResponseWriter, _ *http.Request) {
			startStream(w, outcome.Completed, outcome.ReasonNone)
			sse(w, finalChunk(outcome.Completed, outcome.ReasonNone, servedHere))
		}, "stream ended without data: [DONE]"},
		{"error event without outcome", true, func(w http.ResponseWriter, _ *http.Request) {
			startStream(w, outcome.Completed, outcome.ReasonNone)
			sse(w, `{"error":{"message":"boom"}}`)
			sse(w, "[DONE]")
		}, "mid-stream error event without aruntime_outcome"},
		{"trailer disagrees with final event", true, func(w http.ResponseWriter, _ *http.Request) {
			startStream(w, outcome.Completed, outcome.ReasonNone)
			sse(w, finalChunk(outcome.Completed, outcome.ReasonNone, servedHere))
			sse(w, "[DONE]")
			w.Header().Set(http.TrailerPrefix+outcome.HeaderOutcome, string(outcome.Failed))
			w.Header().Set(http.TrailerPrefix+outcome.HeaderReason, string(outcome.ReasonInternal))
		}, "final event says completed/none but trailer says failed/internal"},
		{"stream requested, plain answer", true, plainOK(outcome.Completed, outcome.ReasonNone, servedHere),
			"not text/event-stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := serve(t, tc.h).Do(t.Context(), chatCall(tc.stream))
			if err != nil {
				t.Fatalf("a contract violation is not an error: %v", err)
			}
			if !containsViolation(res.ContractViolations, tc.want) {
				t.Errorf("violations %q lack %q", res.ContractViolations, tc.want)
			}
		})
	}
}

func containsViolation(vs []string, want string) bool {
	for _, v := range vs {
		if strings.Contains(v, want) {
			return true
		}
	}
	return false
}
