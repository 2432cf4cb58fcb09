// Package outcomehttp makes every HTTP response of the reference runtime carry a request id and
// an outcome, as the contract asks of every endpoint, also the responses a handler wrote without
// one and those net/http's mux writes itself (404, 405). The router's data plane and the
// operator API share it, so both fill in the same outcome the same way.
package outcomehttp

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/aruntime/arcert/api/outcome"
)

// WithOutcome gives every response of next a request id (newID's, unless one is set already) and
// an outcome: the handler's own, or one derived from the status code when it set none.
func WithOutcome(next http.Handler, newID func() string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if w.Header().Get(outcome.HeaderRequestID) == "" {
			w.Header().Set(outcome.HeaderRequestID, newID())
		}
		next.ServeHTTP(&writer{ResponseWriter: w}, req)
	})
}

// Canonical forms of the outcome headers. http.Header's Get and Set canonicalise their key on
// every call, and the contract's spellings ("ARuntime-Outcome") are not canonical ("Aruntime-
// Outcome"), so every call allocated a new key: a dozen allocations per response on the router's
// hot path. Indexing the map with the canonical key is what Get and Set do after canonicalising,
// so the headers on the wire are the same.
var (
	KeyOutcome  = http.CanonicalHeaderKey(outcome.HeaderOutcome)
	KeyReason   = http.CanonicalHeaderKey(outcome.HeaderReason)
	KeyServedBy = http.CanonicalHeaderKey(outcome.HeaderServedBy)
)

// SetKey is h.Set(key, v) for a key already in canonical form (http.CanonicalHeaderKey's), without
// canonicalising it again.
func SetKey(h http.Header, key, v string) { h[key] = []string{v} }

// SetKeys is SetKey for each pair of keyValues (a canonical key, its value, the next key, …), with
// one allocation for every value rather than one each: the router sets six rate-limit and three
// outcome headers on every response. Each header's slice is capped at its one value, so that an
// Add to one header cannot write over the next one's.
func SetKeys(h http.Header, keyValues ...string) {
	vals := make([]string, len(keyValues)/2)
	for i := range vals {
		vals[i] = keyValues[2*i+1]
		h[keyValues[2*i]] = vals[i : i+1 : i+1]
	}
}

// GetKey is h.Get(key) for a key already in canonical form.
func GetKey(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// writer fills in an outcome on a response whose handler set none: 5xx is failed/internal, 404
// rejected/not_found, 405 rejected/method_not_allowed, any other 4xx rejected/invalid_request,
// anything else completed.
type writer struct{ http.ResponseWriter }

func (o *writer) WriteHeader(code int) {
	if h := o.Header(); GetKey(h, KeyOutcome) == "" {
		Set(h, ReasonOf(code))
	}
	o.ResponseWriter.WriteHeader(code)
}

func (o *writer) Write(b []byte) (int, error) {
	if GetKey(o.Header(), KeyOutcome) == "" {
		o.WriteHeader(http.StatusOK)
	}
	return o.ResponseWriter.Write(b)
}

// Unwrap lets http.MaxBytesReader and http.ResponseController reach the real writer (Flush,
// trailers).
func (o *writer) Unwrap() http.ResponseWriter { return o.ResponseWriter }

// ReasonOf is the reason a response of status code states when its handler named none.
func ReasonOf(code int) outcome.Reason {
	switch {
	case code >= http.StatusInternalServerError:
		return outcome.ReasonInternal
	case code == http.StatusNotFound:
		return outcome.ReasonNotFound
	case code == http.StatusMethodNotAllowed:
		return outcome.ReasonMethodNotAllowed
	case code >= http.StatusBadRequest:
		return outcome.ReasonInvalidRequest
	}
	return outcome.ReasonNone
}

// Set puts reason and its class in the outcome headers.
func Set(h http.Header, reason outcome.Reason) {
	SetKey(h, KeyOutcome, string(reason.Class()))
	SetKey(h, KeyReason, string(reason))
}

// NewID returns prefix and 32 random hex digits: a request id that ties a call to the logs.
func NewID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return prefix + hex.EncodeToString(b[:])
}

// Reply answers an operator-API call the way the operator API answers all of them: a fresh
// ctl- request id, the outcome headers of reason, and body as JSON with status. An encoding
// failure cannot be reported once the status line has gone out, so it is ignored.
func Reply(w http.ResponseWriter, status int, reason outcome.Reason, body any) {
	w.Header().Set(outcome.HeaderRequestID, NewID("ctl-"))
	Set(w.Header(), reason)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
