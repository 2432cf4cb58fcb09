package telemetry

import (
	"context"
	"net"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

const checkMethod = "/grpc.health.v1.Health/Check"

// spy is a health server that keeps the span context its handler ran under.
type spy struct {
	*health.Server
	got chan trace.SpanContext
}

func (s spy) Check(ctx context.Context, r *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	s.got <- trace.SpanContextFromContext(ctx)
	return s.Server.Check(ctx, r)
}

// callTraced runs a health check from a client with GRPCClient to a server with GRPCServer, from
// ctx, and returns the span context the server's handler saw.
func callTraced(t *testing.T, ctx context.Context) trace.SpanContext {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := spy{Server: health.NewServer(), got: make(chan trace.SpanContext, 1)}
	g := grpc.NewServer(grpc.StatsHandler(GRPCServer(checkMethod)))
	healthpb.RegisterHealthServer(g, s)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(GRPCClient(checkMethod)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	return <-s.got
}

// TestUnsampledCallCarriesItsTrace: with nothing sampled, the worker side continues the caller's
// trace, parented by the caller's own span (no client span is started), and nothing is recorded.
func TestUnsampledCallCarriesItsTrace(t *testing.T) {
	prev := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(rec)))
	ctx, span := NewTracer("test").Start(context.Background(), "request")
	defer span.End()
	got := callTraced(t, ctx)
	want := span.SpanContext()
	if got.TraceID() != want.TraceID() || got.SpanID() != want.SpanID() || !got.IsRemote() || got.IsSampled() {
		t.Errorf("the server saw %v, want the caller's unsampled span %v as a remote parent", got, want)
	}
	if n := len(rec.Ended()); n != 0 {
		t.Errorf("%d spans recorded with nothing sampled", n)
	}
}

// TestSampledCallIsTraced: a recorded caller's call gets otelgrpc's client and server spans, in
// the caller's trace.
func TestSampledCallIsTraced(t *testing.T) {
	prev := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	ctx, span := NewTracer("test").Start(context.Background(), "request")
	got := callTraced(t, ctx)
	span.End()
	if got.TraceID() != span.SpanContext().TraceID() || !got.IsSampled() || got.IsRemote() {
		t.Errorf("the server handler ran under %v, want a local sampled span of trace %v", got, span.SpanContext().TraceID())
	}
	kinds := map[trace.SpanKind]int{}
	for _, s := range rec.Ended() {
		kinds[s.SpanKind()]++
	}
	if kinds[trace.SpanKindClient] != 1 || kinds[trace.SpanKindServer] != 1 {
		t.Errorf("spans by kind %v, want one client and one server span", kinds)
	}
}

func TestNotSampled(t *testing.T) {
	for v, want := range map[string]bool{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00": true,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02": true,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01": false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz": false,
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00": false,
		"": false,
	} {
		if got := notSampled(v); got != want {
			t.Errorf("notSampled(%q) = %v, want %v", v, got, want)
		}
	}
}
