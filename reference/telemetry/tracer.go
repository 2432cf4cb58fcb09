package telemetry

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
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

// Start starts a span as trace.Tracer.Start does, on the provider installed now. Under a local
// parent that is neither recorded nor sampled (every span while nothing is exported) it starts
// nothing and returns ctx and a no-op span: such a child could only be dropped too, and this
// keeps tracing nearly free when it is off. A root span, or one under a remote parent, is always
// started, since its ids are the request's trace id and traceresponse.
func (t *Tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if p := trace.SpanFromContext(ctx); !p.IsRecording() {
		if sc := p.SpanContext(); sc.IsValid() && !sc.IsRemote() && !sc.IsSampled() {
			return ctx, noop.Span{}
		}
	}
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
