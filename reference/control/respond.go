package control

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/outcomehttp"
)

// withOutcome gives every response a request id and an outcome (see outcomehttp).
func withOutcome(next http.Handler) http.Handler { return outcomehttp.WithOutcome(next, newRequestID) }

// setOutcome puts r in the outcome headers.
func setOutcome(h http.Header, r outcome.Reason) { outcomehttp.Set(h, r) }

// ok answers a request that did what it asked.
func ok(w http.ResponseWriter, v any) {
	setOutcome(w.Header(), outcome.ReasonNone)
	writeJSON(w, http.StatusOK, v)
}

// refuse answers with the router's error envelope, so one client parses every error of the
// runtime; param names the offending field where there is one.
func refuse(w http.ResponseWriter, status int, r outcome.Reason, msg, param string) {
	setOutcome(w.Header(), r)
	typ := "invalid_request_error"
	if r.Class() == outcome.Failed {
		typ = "server_error"
	}
	writeJSON(w, status, openai.ErrorBody{
		Error:   openai.ErrorDetail{Message: msg, Type: typ, Code: string(r), Param: param},
		Outcome: &openai.Outcome{Class: r.Class(), Reason: r},
	})
}

// writeJSON writes v with status. An encoding failure cannot be reported once the status line has
// gone out, so it is ignored.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// withTimeout bounds a request's store work by requestTimeout.
func withTimeout(req *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(req.Context(), requestTimeout)
}

// newRequestID is a random id that ties an operator's call to the logs.
func newRequestID() string { return outcomehttp.NewID("ctl-") }
