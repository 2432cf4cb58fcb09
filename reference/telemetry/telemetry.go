// Package telemetry is the reference runtime's OpenTelemetry tracing: one TracerProvider per
// process, the W3C Trace Context propagator, and the small helpers the router, the workers and
// the evidence service share to start spans and to carry a trace across gRPC and NATS.
//
// Spans leave the process only when OTEL_EXPORTER_OTLP_ENDPOINT (or its traces-only variant) is
// set; otherwise the provider samples nothing and has no exporter, so a span costs an id and a
// non-recording value, and the trace id still reaches the evidence record and the traceresponse
// header.
package telemetry

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The standard OTLP variables that turn exporting on. The exporter reads the rest of its
// configuration (headers, timeout, TLS, OTEL_EXPORTER_OTLP_TRACES_*) from the environment itself.
const (
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	// EnvProtocol and EnvTracesProtocol choose http/protobuf (the default) or grpc.
	EnvProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
)

// Propagator is the W3C Trace Context propagator every hop uses: HTTP headers at the front door,
// gRPC metadata to the workers, NATS headers to the evidence service. It is used directly rather
// than through otel's global, so propagation works even where no one called Setup.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Exporting reports whether the environment asks for spans to be exported over OTLP.
func Exporting() bool {
	return os.Getenv(EnvEndpoint) != "" || os.Getenv(EnvTracesEndpoint) != ""
}

// Setup installs the process's TracerProvider and propagator as otel's globals and returns the
// provider's shutdown, which flushes what is still buffered. With an OTLP endpoint in the
// environment, spans are batched to it over OTLP (HTTP, or gRPC if OTEL_EXPORTER_OTLP_PROTOCOL
// says so), sampled as OTEL_TRACES_SAMPLER says
// (parent-based always-on by default). Without one, nothing is sampled and nothing exported.
// service names the process's role (service.name, unless OTEL_SERVICE_NAME overrides it).
func Setup(ctx context.Context, service string) (shutdown func(context.Context) error, err error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", service)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if Exporting() {
		exp, err := exporter(ctx)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	} else {
		opts = append(opts, sdktrace.WithSampler(sdktrace.NeverSample()))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(Propagator)
	return tp.Shutdown, nil
}

// exporter is the OTLP span exporter over the protocol the environment names: http/protobuf
// (the default) or grpc.
func exporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	protocol := os.Getenv(EnvTracesProtocol)
	if protocol == "" {
		protocol = os.Getenv(EnvProtocol)
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch protocol {
	case "", "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("telemetry: OTLP protocol %q is not supported: set %s to http/protobuf or grpc", protocol, EnvProtocol)
	}
	if err != nil {
		return nil, fmt.Errorf("telemetry: OTLP exporter (%s): %w", protocol, err)
	}
	return exp, nil
}

// EnsureProvider installs the non-exporting provider of Setup unless an SDK provider is installed
// already (by Setup, or by a test with its own exporter). Runtimes started in-process call it, so
// every request gets a real trace and span id even when the embedding program set nothing up.
func EnsureProvider() {
	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); ok {
		return
	}
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample())))
}
