package router

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"

	"github.com/aruntime/arcert/reference/fallback"
	"github.com/aruntime/arcert/reference/outcomehttp"
	"github.com/aruntime/arcert/reference/telemetry"
)

// tracer starts the router's spans. Span names are part of the README's contract with operators:
// aruntime.request (one per request, the parent of all others), aruntime.admission,
// aruntime.queue_wait, aruntime.route (one per attempt) and aruntime.fallback.
var tracer = telemetry.NewTracer("github.com/aruntime/arcert/reference/router")

// Span attribute keys, shared with the workers and the evidence service.
const (
	attrRequestID    = attribute.Key("aruntime.request_id")
	attrTenant       = attribute.Key("aruntime.tenant")
	attrTrafficClass = attribute.Key("aruntime.traffic_class")
	attrOutcome      = attribute.Key("aruntime.outcome")
	attrReason       = attribute.Key("aruntime.outcome_reason")
	attrPlace        = attribute.Key("aruntime.place")
	attrAttempt      = attribute.Key("aruntime.attempt")
)

// startRequest starts a request's server span as a child of the caller's trace, when carrier
// holds a valid W3C traceparent. The propagator refuses a malformed header and an all-zero trace
// or span id, so such a request starts a trace of its own, as if it had sent none. own reports
// that the span is the router's: without an SDK provider a span only hands the caller's ids
// through, which are not the router's to answer with in traceresponse.
func startRequest(ctx context.Context, carrier propagation.TextMapCarrier, name string) (_ context.Context, span trace.Span, own bool) {
	ctx = telemetry.Propagator.Extract(ctx, carrier)
	parent := trace.SpanContextFromContext(ctx).SpanID()
	ctx, span = tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
	sc := span.SpanContext()
	return ctx, span, sc.IsValid() && sc.SpanID() != parent
}

// requestTrace is the trace id a request's evidence records: its span's, else (no SDK provider
// installed, as in unit tests) a new random one, so evidence never lacks one.
func requestTrace(span trace.Span) string {
	if sc := span.SpanContext(); sc.TraceID().IsValid() {
		return sc.TraceID().String()
	}
	return newID("")
}

// keyTraceResponse is the canonical key of the traceresponse header (Set would canonicalise
// the lower-case name, allocating, on every response).
var keyTraceResponse = http.CanonicalHeaderKey("traceresponse")

// setTraceResponse sends the W3C Trace Context Level 2 traceresponse header: the trace the
// request ran in and the router's span of it, so a caller that sent no traceparent (or an invalid
// one) can still find the request's trace.
func setTraceResponse(w http.ResponseWriter, span trace.Span, own bool) {
	if !own {
		return
	}
	if v := telemetry.TraceResponse(span.SpanContext()); v != "" {
		outcomehttp.SetKey(w.Header(), keyTraceResponse, v)
	}
}

// endRequest states how the request ended on its span and ends it.
func endRequest(span trace.Span, j job, end ending) {
	if span.IsRecording() {
		span.SetAttributes(attrRequestID.String(j.id), attrTenant.String(j.principal.Tenant),
			attrTrafficClass.String(j.class.Name), attrOutcome.String(string(end.class)), attrReason.String(string(end.reason)))
		if !end.class.Served() && end.class != "" {
			span.SetStatus(codes.Error, string(end.reason))
		}
	}
	span.End()
}

// endAdmission ends the admission span, naming the refusal if admission refused.
func endAdmission(span trace.Span, end ending) {
	if end.reason != "" && span.IsRecording() {
		span.SetAttributes(attrOutcome.String(string(end.class)), attrReason.String(string(end.reason)))
	}
	span.End()
}

// traceQueueWait records the time a request waited for its slot as a span that ended now.
func traceQueueWait(ctx context.Context, j job, waited time.Duration) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return
	}
	now := time.Now()
	_, span := tracer.Start(ctx, "aruntime.queue_wait", trace.WithTimestamp(now.Add(-waited)),
		trace.WithAttributes(attrTrafficClass.String(j.class.Name)))
	span.End(trace.WithTimestamp(now))
}

// startAttempt starts the span of one routing attempt on d's place, under an aruntime.fallback
// span when the plan moved the request off its primary place.
func startAttempt(ctx context.Context, attempt int, d fallback.Decision) (context.Context, func(ending)) {
	var fb trace.Span
	if d.Index > 0 {
		ctx, fb = tracer.Start(ctx, "aruntime.fallback")
	}
	ctx, span := tracer.Start(ctx, "aruntime.route")
	if span.IsRecording() {
		span.SetAttributes(attrAttempt.Int(attempt), attrPlace.String(d.Place.String()))
	}
	if fb != nil && fb.IsRecording() {
		fb.SetAttributes(attrPlace.String(d.Place.String()), attrOutcome.String(string(d.Class)), attrReason.String(string(d.Reason)))
	}
	return ctx, func(end ending) {
		if span.IsRecording() {
			span.SetAttributes(attrOutcome.String(string(end.class)), attrReason.String(string(end.reason)))
		}
		span.End()
		if fb != nil {
			fb.End()
		}
	}
}

// mdCarrier reads a gRPC call's incoming metadata as a propagation carrier (keys are lowercase).
type mdCarrier metadata.MD

func (c mdCarrier) Get(key string) string {
	if v := metadata.MD(c).Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c mdCarrier) Set(key, value string) { metadata.MD(c).Set(key, value) }

func (c mdCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
