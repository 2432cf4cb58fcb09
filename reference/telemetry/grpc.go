package telemetry

import (
	"context"
	"slices"
	"strconv"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
)

// GRPCClient is the stats handler that traces a client's calls of methods (full names, such as
// "/arcert.v1.Worker/Generate") and carries their trace context in the call's metadata. Other
// calls, such as health polls, are neither traced nor propagated: they belong to no request.
//
// A call whose caller's span is not recorded (every call while nothing is sampled) only carries
// the caller's trace context: otelgrpc would start a span that no one can see and build its
// attributes and metadata copies anyway, a sixth of a request's allocations through the router.
func GRPCClient(methods ...string) stats.Handler {
	full := otelgrpc.NewClientHandler(otelgrpc.WithPropagators(Propagator), otelgrpc.WithFilter(only(methods)))
	return &lightHandler{full: full, methods: methods, client: true}
}

// GRPCServer is GRPCClient's server side: it continues the caller's trace for calls of methods.
// A call whose trace context says it is not sampled continues the trace without otelgrpc's span
// (the runtime's samplers follow the parent: Setup's default, or never).
func GRPCServer(methods ...string) stats.Handler {
	full := otelgrpc.NewServerHandler(otelgrpc.WithPropagators(Propagator), otelgrpc.WithFilter(only(methods)))
	return &lightHandler{full: full, methods: methods}
}

func only(methods []string) otelgrpc.Filter {
	return func(info *stats.RPCTagInfo) bool { return slices.Contains(methods, info.FullMethodName) }
}

// lightHandler hands a call to otelgrpc when its trace is recorded and otherwise only propagates
// the trace context; calls of other methods it leaves alone.
type lightHandler struct {
	full    stats.Handler
	methods []string
	client  bool
}

// handled marks a call's context as otelgrpc's, so that its events go there too.
type handled struct{}

func (h *lightHandler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if !slices.Contains(h.methods, info.FullMethodName) {
		return ctx
	}
	if h.client {
		if trace.SpanFromContext(ctx).IsRecording() {
			return context.WithValue(h.full.TagRPC(ctx, info), handled{}, true)
		}
		Propagator.Inject(ctx, outgoing{&ctx})
		return ctx
	}
	in := incoming{ctx: ctx}
	if notSampled(in.Get(traceparent)) {
		return Propagator.Extract(ctx, &in)
	}
	return context.WithValue(h.full.TagRPC(ctx, info), handled{}, true)
}

func (h *lightHandler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if ctx.Value(handled{}) != nil {
		h.full.HandleRPC(ctx, s)
	}
}

func (h *lightHandler) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	return h.full.TagConn(ctx, info)
}

func (h *lightHandler) HandleConn(ctx context.Context, s stats.ConnStats) { h.full.HandleConn(ctx, s) }

const traceparent = "traceparent"

// notSampled reports whether v is a well-formed version-00 traceparent whose sampled flag is clear.
func notSampled(v string) bool {
	if len(v) != 55 || v[:3] != "00-" {
		return false
	}
	f, err := strconv.ParseUint(v[53:], 16, 8)
	return err == nil && !trace.TraceFlags(f).IsSampled()
}

// outgoing sets trace context fields in a call's outgoing metadata.
type outgoing struct{ ctx *context.Context }

func (o outgoing) Get(string) string { return "" }
func (o outgoing) Set(key, value string) {
	*o.ctx = metadata.AppendToOutgoingContext(*o.ctx, key, value)
}
func (o outgoing) Keys() []string { return nil }

// incoming reads trace context fields of a call's incoming metadata, copying only those asked for.
type incoming struct{ ctx context.Context }

func (i *incoming) Get(key string) string {
	if vs := metadata.ValueFromIncomingContext(i.ctx, key); len(vs) > 0 {
		return vs[0]
	}
	return ""
}
func (i *incoming) Set(string, string) {}
func (i *incoming) Keys() []string     { return []string{traceparent, "tracestate"} }
