package worker

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/telemetry"
)

// tracer starts the worker's spans, children of the router's call (the gRPC server span that
// continues the router's trace): worker.prefill, from submission to the first token (the whole
// call for a prefill-only one), then worker.decode, from the first token to the end.
var tracer = telemetry.NewTracer("github.com/aruntime/arcert/reference/worker")

// phases are one Generate call's prefill and decode spans.
type phases struct {
	ctx     context.Context
	attrs   []attribute.KeyValue
	prefill trace.Span
	decode  trace.Span
}

// startPhases starts the prefill span of req on model.
func startPhases(ctx context.Context, req *arcertv1.GenerateRequest, model string) *phases {
	p := &phases{ctx: ctx}
	if trace.SpanFromContext(ctx).IsRecording() { // attributes only for a trace someone keeps
		p.attrs = []attribute.KeyValue{
			attribute.String("aruntime.request_id", req.GetRequestId()),
			attribute.String("aruntime.tenant", req.GetTenant().GetTenant()),
			attribute.String("aruntime.traffic_class", req.GetTrafficClass()),
			attribute.String("aruntime.model", model),
		}
	}
	_, p.prefill = tracer.Start(ctx, "worker.prefill", trace.WithAttributes(p.attrs...))
	return p
}

// token marks a generated token: the first one ends prefill and starts decode.
func (p *phases) token() {
	if p.decode != nil {
		return
	}
	p.prefill.End()
	_, p.decode = tracer.Start(p.ctx, "worker.decode", trace.WithAttributes(p.attrs...))
}

// end ends whichever phase is open.
func (p *phases) end() {
	if p.decode != nil {
		p.decode.End()
		return
	}
	p.prefill.End()
}
