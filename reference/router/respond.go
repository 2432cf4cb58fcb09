package router

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/outcomehttp"
)

// setOutcome writes the contract's outcome headers (or trailers, when h is a trailer map).
func setOutcome(h http.Header, class outcome.Class, reason outcome.Reason, sb outcome.ServedBy) {
	if sb.IsZero() {
		outcomehttp.SetKeys(h, outcomehttp.KeyOutcome, string(class), outcomehttp.KeyReason, string(reason))
		return
	}
	outcomehttp.SetKeys(h, outcomehttp.KeyOutcome, string(class), outcomehttp.KeyReason, string(reason),
		outcomehttp.KeyServedBy, sb.String())
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

// retryAfterSeconds renders a delay as Retry-After's whole seconds (retryDelay).
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(int64(retryDelay(d)/time.Second), 10)
}

// retryDelay is the retry hint a refusal gives for delay d, over HTTP (Retry-After) and gRPC
// (RetryInfo) alike: whole seconds, rounded up so a client never comes back early, and never
// less than one.
func retryDelay(d time.Duration) time.Duration {
	return time.Duration(max(1, int64(math.Ceil(d.Seconds())))) * time.Second
}

// writeJSON writes v with status and its Content-Length, so a client has the whole response
// when the body ends, not when the handler does (evidence and metrics come after it). The wire
// types always encode; a failure would be a programming error, answered as an internal one.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer putJSONBuffer(buf)
	buf.Reset()
	// Encode writes what Marshal returns plus a newline, escaping alike, into a reused buffer:
	// every completion's body is encoded here, and Marshal's result was a fresh allocation each.
	var b []byte
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"message":"response encoding failed","type":"server_error","code":"internal"}}`+"\n")
	} else {
		b = buf.Bytes()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// jsonBuffers are writeJSON's reusable buffers; one larger than maxPooledJSON (a long completion)
// is left to the collector rather than kept.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledJSON = 64 << 10

func putJSONBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledJSON {
		jsonBuffers.Put(b)
	}
}

// writeOK answers a discovery or listing request.
func writeOK(w http.ResponseWriter, v any) {
	setOutcome(w.Header(), outcome.Completed, outcome.ReasonNone, outcome.ServedBy{})
	writeJSON(w, http.StatusOK, v)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func quote(s string) string { return strconv.Quote(s) }
