package telemetry

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// BenchmarkRequestSpansOff is what tracing costs one request while nothing is exported: a root
// span (for the trace id) and the six child spans the router, worker and evidence start.
func BenchmarkRequestSpansOff(b *testing.B) {
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample())))
	b.Cleanup(func() { otel.SetTracerProvider(prev) })
	tr := NewTracer("bench")
	b.ReportAllocs()
	for b.Loop() {
		ctx, root := tr.Start(context.Background(), "root")
		for range 6 {
			_, s := tr.Start(ctx, "child")
			s.End()
		}
		root.End()
	}
}
