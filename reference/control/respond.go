package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// withOutcome gives every response a request id and an outcome, also those the mux writes itself
// (405 Method Not Allowed), as the contract asks of every endpoint.
func withOutcome(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set(outcome.HeaderRequestID, newRequestID())
		next.ServeHTTP(&outcomeWriter{ResponseWriter: w}, req)
	})
}

// outcomeWriter fills in an outcome on a response whose handler set none.
type outcomeWriter struct{ http.ResponseWriter }

func (o *outcomeWriter) WriteHeader(code int) {
	if h := o.Header(); h.Get(outcome.HeaderOutcome) == "" {
		reason := outcome.ReasonNone
		switch {
		case code >= http.StatusInternalServerError:
			reason = outcome.ReasonInternal
		case code >= http.StatusBadRequest:
			reason = outcome.ReasonInvalidRequest
		}
		setOutcome(h, reason)
	}
	o.ResponseWriter.WriteHeader(code)
}

func (o *outcomeWriter) Write(b []byte) (int, error) {
	if o.Header().Get(outcome.HeaderOutcome) == "" {
		o.WriteHeader(http.StatusOK)
	}
	return o.ResponseWriter.Write(b)
}

// Unwrap lets http.MaxBytesReader and http.ResponseController reach the real writer.
func (o *outcomeWriter) Unwrap() http.ResponseWriter { return o.ResponseWriter }

func setOutcome(h http.Header, r outcome.Reason) {
	h.Set(outcome.HeaderOutcome, string(r.Class()))
	h.Set(outcome.HeaderReason, string(r))
}

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
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "ctl-" + hex.EncodeToString(b[:])
}

// Reply answers an operator-API call served outside this package (worker replacement, the device
// hook) the way this package answers its own: a fresh ctl- request id, the outcome headers of
// reason, and body as JSON with status.
func Reply(w http.ResponseWriter, status int, reason outcome.Reason, body any) {
	w.Header().Set(outcome.HeaderRequestID, newRequestID())
	setOutcome(w.Header(), reason)
	writeJSON(w, status, body)
}
