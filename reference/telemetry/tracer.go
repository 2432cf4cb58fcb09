package telemetry

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Tracer is one instrumentation scope's tracer of the global provider. Asking the provider for a
// tracer takes a lock, so it is asked once and again only when the global provider changes (a
// test installing its own).
type Tracer struct {
	scope string
	cur   atomic.Pointer[scoped]
}

type scoped struct {
	tp trace.TracerProvider
	t  trace.Tracer
}

// NewTracer returns the tracer of scope, for example "github.com/aruntime/arcert/reference/router".
func NewTracer(scope string) *Tracer { return &Tracer{scope: scope} }

// Start starts a span as trace.Tracer.Start does, on the provider installed now.
func (t *Tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	tp := otel.GetTracerProvider()
	c := t.cur.Load()
	if c == nil || c.tp != tp {
		c = &scoped{tp: tp, t: tp.Tracer(t.scope)}
		t.cur.Store(c)
	}
	return c.t.Start(ctx, name, opts...)
}

// TraceResponse is the W3C Trace Context Level 2 traceresponse value for sc: the trace, the span
// the server handled the request in, and whether it was recorded. Empty for an invalid sc.
func TraceResponse(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
}
