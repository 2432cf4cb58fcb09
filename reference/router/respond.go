package router

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// setOutcome writes the contract's outcome headers (or trailers, when h is a trailer map).
func setOutcome(h http.Header, class outcome.Class, reason outcome.Reason, sb outcome.ServedBy) {
	h.Set(outcome.HeaderOutcome, string(class))
	h.Set(outcome.HeaderReason, string(reason))
	if !sb.IsZero() {
		h.Set(outcome.HeaderServedBy, sb.String())
	}
}

// wireOutcome is the outcome as it travels in a body or an SSE event.
func wireOutcome(end ending) *openai.Outcome {
	return &openai.Outcome{Class: end.class, Reason: end.reason, ServedBy: end.servedBy}
}

// errorType is the OpenAI error type a class maps to, for clients that switch on it.
func errorType(c outcome.Class) string {
	switch c {
	case outcome.Rejected:
		return "invalid_request_error"
	case outcome.Shed:
		return "server_overloaded"
	case outcome.TimedOut:
		return "timeout"
	default:
		return "server_error"
	}
}

// errorBody is the OpenAI error envelope of an ending, with the contract's outcome inside.
func errorBody(end ending, param string) openai.ErrorBody {
	return openai.ErrorBody{
		Error:   openai.ErrorDetail{Message: end.message, Type: errorType(end.class), Code: string(end.reason), Param: param},
		Outcome: wireOutcome(end),
	}
}

// writeRefusal answers a request that ended without output: its status, outcome headers,
// Retry-After where retrying later helps, and an OpenAI error body.
func writeRefusal(w http.ResponseWriter, end ending, param string) {
	h := w.Header()
	setOutcome(h, end.class, end.reason, outcome.ServedBy{})
	if end.retryAfter > 0 || end.class == outcome.Shed {
		h.Set("Retry-After", retryAfterSeconds(end.retryAfter))
	}
	writeJSON(w, outcome.StatusFor(end.reason), errorBody(end, param))
}

// retryAfterSeconds renders a delay as Retry-After's whole seconds, rounding up so a client never
// comes back early, and never less than one.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}

// writeJSON writes v with status and its Content-Length, so a client has the whole response
// when the body ends, not when the handler does (evidence and metrics come after it). The wire
// types always encode; a failure would be a programming error, answered as an internal one.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"message":"response encoding failed","type":"server_error","code":"internal"}}`)
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeOK answers a discovery or listing request.
func writeOK(w http.ResponseWriter, v any) {
	setOutcome(w.Header(), outcome.Completed, outcome.ReasonNone, outcome.ServedBy{})
	writeJSON(w, http.StatusOK, v)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func quote(s string) string { return strconv.Quote(s) }
