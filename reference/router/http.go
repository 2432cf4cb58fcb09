package router

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/propagation"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/outcomehttp"
)

// Handler is the router's HTTP surface: the OpenAI-compatible data plane, the contract's
// discovery endpoints, /metrics and /healthz. Every response carries an outcome; an unknown path
// is 404 not_found and a known one asked with the wrong method 405 method_not_allowed with Allow.
func (r *Router) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", r.bounded(r.completion(true)))
	mux.HandleFunc("POST /v1/completions", r.bounded(r.completion(false)))
	mux.HandleFunc("GET /v1/models", r.listModels)
	mux.HandleFunc("GET "+discovery.PathFeatures, r.features)
	mux.HandleFunc("GET "+discovery.PathVersions, r.versions)
	mux.HandleFunc("GET "+discovery.PathQuotas, r.quotas)
	mux.HandleFunc("GET "+discovery.PathEvidence, r.evidenceList)
	mux.HandleFunc("GET "+discovery.PathAttestations+"/{digest}", r.attestationByDigest)
	if r.batches != nil {
		mux.HandleFunc("POST /v1/batches", r.submitBatch)
		mux.HandleFunc("GET /v1/batches/{id}", r.getBatch)
	}
	// OpenMetrics, when a scraper asks for it, is the exposition that carries exemplars.
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.gatherer, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	mux.HandleFunc("GET /healthz", r.healthz)
	return outcomehttp.WithOutcome(r.routed(mux), func() string { return newID("req-") })
}

// completion serves POST /v1/chat/completions (chat) and POST /v1/completions.
func (r *Router) completion(chat bool) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		var end ending
		started := time.Now()
		ctx, span, own := startRequest(req.Context(), propagation.HeaderCarrier(req.Header), "aruntime.request")
		setTraceResponse(w, span, own)
		j := job{id: w.Header().Get(outcome.HeaderRequestID), traceID: requestTrace(span), span: span, arrived: started}
		defer func() { endRequest(span, j, end) }()
		end = r.admitHTTP(w, req, chat, &j)
		j.traceID = r.defects.Labels.streamTrace(j)
		// The rate-limit headers are read as the response's headers go out, after admission
		// spent this request's quota.
		rateLimit := func() { r.setRateLimit(w.Header(), j.principal.Tenant) }
		var ticket uint64
		if end.reason == "" {
			em := newHTTPEmitter(w, j, chat, r.writeTimeout(j))
			em.beforeHeaders = rateLimit
			end = r.execute(ctx, j, em)
			ticket = r.pending.begin() // before the client can see the response end
			em.finish(end)
		} else {
			rateLimit()
			ticket = r.pending.begin()
			writeRefusal(w, end, end.param)
		}
		// The response is complete (a plain body carries its Content-Length): send it, and write
		// the evidence after the handler returned, so that neither this caller nor its next
		// request on the same connection waits for the evidence write (see pendingRecords).
		_ = http.NewResponseController(w).Flush()
		r.recordLater(ticket, j, end, started)
	}
}

// keyTrafficClass is the canonical key of the traffic class header: Get would canonicalise the
// contract's spelling, allocating, on every request.
var keyTrafficClass = http.CanonicalHeaderKey(outcome.HeaderTrafficClass)

// admitHTTP authenticates, reads and validates a completion request, filling j. It returns a
// refusal ending, or the zero ending when the request may go on.
func (r *Router) admitHTTP(w http.ResponseWriter, req *http.Request, chat bool, j *job) ending {
	p, end := r.authenticate(req.Header.Get("Authorization"), identity.RoleTenant)
	if end.reason != "" {
		if end.reason == outcome.ReasonUnauthenticated {
			w.Header().Set("WWW-Authenticate", `Bearer realm="aruntime"`)
		}
		return end
	}
	j.principal = p
	class, end := r.trafficClass(p, outcomehttp.GetKey(req.Header, keyTrafficClass))
	j.class = class
	if end.reason != "" {
		return end
	}
	limit := r.cfg.Router.MaxBodyBytes
	if chat && r.defects.ChatBodyUnlimited {
		limit = 1 << 40 // the defect: the chat handler reads whatever it is sent
	}
	body, end := r.readBodyUpTo(w, req, limit)
	if end.reason != "" {
		return end
	}
	c, ref := DecodeCompletion(body, chat, r.model)
	j.c = c
	if ref != nil {
		e := refused(ref.Reason, ref.Message)
		e.message, e.param = ref.Message, ref.Param
		return e
	}
	return ending{}
}

// readBody reads a request body up to the configured limit; a larger body is refused with
// body_too_large before it is read whole, and a compressed one with unsupported_media_type
// before it is read at all (its bytes would otherwise be judged as broken text).
func (r *Router) readBody(w http.ResponseWriter, req *http.Request) ([]byte, ending) {
	return r.readBodyUpTo(w, req, r.cfg.Router.MaxBodyBytes)
}

// readBodyUpTo is readBody with the limit given.
func (r *Router) readBodyUpTo(w http.ResponseWriter, req *http.Request, limit int64) ([]byte, ending) {
	if enc := strings.TrimSpace(req.Header.Get("Content-Encoding")); enc != "" && !strings.EqualFold(enc, "identity") {
		w.Header().Set("Accept-Encoding", "identity") // RFC 7694: the codings the server does take
		return nil, refused(outcome.ReasonUnsupportedMediaType, "Content-Encoding "+quote(enc)+" is not supported: send the body uncompressed, as plain JSON")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, refused(outcome.ReasonBodyTooLarge, "the body is over the limit of "+itoa(tooBig.Limit)+" bytes")
	case err != nil:
		return nil, refused(outcome.ReasonClientCancelled, "reading the body: "+err.Error())
	}
	return body, ending{}
}

// authenticate binds the caller's identity from its credential and checks that its role is one
// of roles.
func (r *Router) authenticate(authorization string, roles ...identity.Role) (identity.Principal, ending) {
	p, err := r.ids.Authenticate(authorization)
	switch {
	case errors.Is(err, identity.ErrMissingCredential):
		return p, refused(outcome.ReasonUnauthenticated, "send your API key as Authorization: Bearer KEY")
	case err != nil:
		return p, refused(outcome.ReasonUnauthenticated, "the API key is not valid")
	case !slices.Contains(roles, p.Role):
		return identity.Principal{}, refused(outcome.ReasonForbidden, "a "+string(p.Role)+" credential may not call this endpoint")
	}
	return p, ending{}
}

// trafficClass picks the class a request runs in: the one it asks for, if its tenant may use it,
// else the tenant's default.
func (r *Router) trafficClass(p identity.Principal, asked string) (config.TrafficClass, ending) {
	t, _ := r.cfg.Tenant(p.Tenant)
	name := strings.TrimSpace(asked)
	if name == "" {
		name = t.DefaultClass
	}
	allowed := false
	for _, k := range t.TrafficClasses {
		allowed = allowed || k == name
	}
	class, ok := r.cfg.Class(name)
	if !allowed || !ok {
		return class, refused(outcome.ReasonTrafficClassNotAllowed, "traffic class "+quote(name)+" is not one the tenant may use: "+strings.Join(t.TrafficClasses, ", "))
	}
	return class, ending{}
}
