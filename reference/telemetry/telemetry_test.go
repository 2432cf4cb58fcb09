package telemetry

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// defaultOTLPHTTP is where an OTLP/HTTP exporter given no endpoint sends its spans.
const defaultOTLPHTTP = "127.0.0.1:4318"

// receiver is an OTLP/HTTP endpoint on loopback at addr ("" for any free port) that counts the
// trace exports it gets.
func receiver(t *testing.T, addr string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var got atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" {
			got.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	if addr != "" {
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listening where an exporter without an endpoint would send (%s): %v", addr, err)
		}
		srv.Listener = lis
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &got
}

// traced runs Setup with the environment as the test set it, makes one span and shuts down,
// which flushes whatever the provider would export. The protocol and sampler variables are the
// SDK's defaults, whatever the developer's shell exports.
func traced(t *testing.T) trace.SpanContext {
	t.Helper()
	for _, v := range []string{EnvProtocol, EnvTracesProtocol, "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_SDK_DISABLED"} {
		t.Setenv(v, "")
	}
	prev := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	shutdown, err := Setup(context.Background(), "telemetry-test")
	if err != nil {
		t.Fatal(err)
	}
	_, span := NewTracer("test").Start(context.Background(), "work")
	span.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	return span.SpanContext()
}

func TestNoEndpointExportsNothing(t *testing.T) {
	// The receiver listens on the OTLP default, so an exporter set up without an endpoint would
	// reach it.
	_, got := receiver(t, defaultOTLPHTTP)
	t.Setenv(EnvEndpoint, "")
	t.Setenv(EnvTracesEndpoint, "")
	sc := traced(t)
	if n := got.Load(); n != 0 {
		t.Errorf("without %s the runtime exported %d batches, want none", EnvEndpoint, n)
	}
	if !sc.IsValid() || sc.IsSampled() {
		t.Errorf("span context %v: want valid ids (evidence and traceresponse need them) and not sampled", sc)
	}
}

func TestEndpointExports(t *testing.T) {
	srv, got := receiver(t, "")
	t.Setenv(EnvEndpoint, srv.URL)
	t.Setenv(EnvTracesEndpoint, "")
	sc := traced(t)
	if n := got.Load(); n == 0 {
		t.Errorf("with %s=%s the span was not exported", EnvEndpoint, srv.URL)
	}
	if !sc.IsSampled() {
		t.Errorf("span context %v: want sampled when exporting", sc)
	}
}

func TestTraceResponse(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	if got, want := TraceResponse(sc), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"; got != want {
		t.Errorf("TraceResponse = %q, want %q", got, want)
	}
	if got := TraceResponse(trace.SpanContext{}); got != "" {
		t.Errorf("TraceResponse(invalid) = %q, want empty", got)
	}
}

func TestEnsureProviderKeepsAnInstalledOne(t *testing.T) {
	prev := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	EnsureProvider()
	first := otel.GetTracerProvider()
	EnsureProvider()
	if otel.GetTracerProvider() != first {
		t.Error("EnsureProvider replaced an SDK provider that was installed already")
	}
	_, span := NewTracer("test").Start(context.Background(), "work")
	if !span.SpanContext().IsValid() {
		t.Error("after EnsureProvider a span has no ids")
	}
}

func TestChildOfUnsampledSpanIsNotStarted(t *testing.T) {
	prev := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample())))
	tr := NewTracer("test")
	ctx, root := tr.Start(context.Background(), "root")
	if !root.SpanContext().IsValid() {
		t.Fatal("the root span has no ids")
	}
	cctx, child := tr.Start(ctx, "child")
	if child.SpanContext().IsValid() || cctx != ctx {
		t.Errorf("a child of an unsampled span was started: %v", child.SpanContext())
	}
	// A remote parent is the caller's: the router's own span is started under it all the same.
	rctx := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: root.SpanContext().TraceID(), SpanID: root.SpanContext().SpanID(), Remote: true}))
	_, own := tr.Start(rctx, "request")
	if !own.SpanContext().IsValid() || own.SpanContext().SpanID() == root.SpanContext().SpanID() {
		t.Errorf("under a remote unsampled parent no span of its own was started: %v", own.SpanContext())
	}
}

func TestUnsupportedProtocolIsNamed(t *testing.T) {
	t.Setenv(EnvEndpoint, "http://127.0.0.1:1")
	t.Setenv(EnvTracesProtocol, "")
	t.Setenv(EnvProtocol, "http/json")
	prev := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	_, err := Setup(context.Background(), "telemetry-test")
	if err == nil || !strings.Contains(err.Error(), `"http/json"`) || !strings.Contains(err.Error(), EnvProtocol) {
		t.Errorf("Setup with protocol http/json: %v, want an error naming the protocol and %s", err, EnvProtocol)
	}
}

func TestGRPCProtocolSetsUp(t *testing.T) {
	t.Setenv(EnvEndpoint, "http://127.0.0.1:1")
	t.Setenv(EnvProtocol, "grpc")
	prev := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	shutdown, err := Setup(context.Background(), "telemetry-test")
	if err != nil {
		t.Fatalf("Setup with protocol grpc: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = shutdown(ctx) // nothing listens; only the setup is under test
}
