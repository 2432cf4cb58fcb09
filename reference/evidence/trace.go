package evidence

import (
	"context"
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/reference/telemetry"
)

// tracer starts the evidence spans: evidence.append where a record is handed to the store (in
// the router's process, a child of the request's span) and evidence.record where the Service
// chains it, continuing the same trace across NATS.
var tracer = telemetry.NewTracer("github.com/aruntime/arcert/reference/evidence")

// traceHeader carries the trace context of the records of one inbox message across NATS. One
// message holds many records of as many traces, so the header holds one value per traced record,
// "REQUEST_ID TRACEPARENT"; a record whose trace nobody keeps (not sampled) has none, which is
// every record while tracing is off.
const traceHeader = "Aruntime-Record-Traceparent"

// startAppend starts the evidence.append span of r and returns the record's traceparent for the
// inbox header: empty unless the span is sampled.
func startAppend(ctx context.Context, r discovery.Record) (context.Context, trace.Span, string) {
	ctx, span := tracer.Start(ctx, "evidence.append", trace.WithSpanKind(trace.SpanKindProducer))
	if !span.SpanContext().IsSampled() {
		return ctx, span, ""
	}
	span.SetAttributes(recordAttrs(r)...)
	c := propagation.MapCarrier{}
	telemetry.Propagator.Inject(ctx, c)
	return ctx, span, c["traceparent"]
}

func recordAttrs(r discovery.Record) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("aruntime.request_id", r.RequestID),
		attribute.String("aruntime.tenant", r.Tenant),
		attribute.String("aruntime.traffic_class", r.TrafficClass),
		attribute.String("aruntime.outcome", string(r.Outcome)),
		attribute.String("aruntime.outcome_reason", string(r.Reason)),
	}
}

// setTraces adds the traced records' contexts to an inbox message.
func setTraces(m *nats.Msg, ids, traces []string) {
	for i, tp := range traces {
		if tp != "" {
			m.Header.Add(traceHeader, ids[i]+" "+tp)
		}
	}
}

// recordTraces reads an inbox message's trace contexts by request id; nil when it has none.
func recordTraces(h nats.Header) map[string]string {
	vals := h.Values(traceHeader)
	if len(vals) == 0 {
		return nil
	}
	out := make(map[string]string, len(vals))
	for _, v := range vals {
		// The traceparent has no space; a request id (a batch job's names the client's
		// custom_id) may.
		if i := strings.LastIndexByte(v, ' '); i > 0 {
			out[v[:i]] = v[i+1:]
		}
	}
	return out
}

// startRecord starts the evidence.record span of r, a child of its evidence.append span when the
// inbox message carried that span's context, else nothing recorded (tracing off, or a record
// replayed from a spool, whose trace ended long ago).
func startRecord(ctx context.Context, traces map[string]string, r discovery.Record) trace.Span {
	tp, ok := traces[r.RequestID]
	if !ok {
		return trace.SpanFromContext(context.Background()) // the no-op span
	}
	ctx = telemetry.Propagator.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
	_, span := tracer.Start(ctx, "evidence.record", trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(recordAttrs(r)...))
	return span
}
