package main

import (
	"context"
	"testing"
)

// BenchmarkRouterHTTPHop is one OpenAI HTTP completion through the router to the zero-cost
// worker and back, with everything in this process: allocs/op counts the client's allocations
// too, but they do not change with the router, so a change of allocs/op is the router's (and the
// worker's). It is the deterministic companion of the out-of-process figures, whose latency this
// shared machine blurs: `go test -run '^$' -bench RouterHTTPHop -benchmem ./cmd/arbench`.
func BenchmarkRouterHTTPHop(b *testing.B) {
	benchHop(b, func(addr string) (func(context.Context) (outcome, error), func(), error) {
		return httpCaller(addr, benchKey, 4, 64)
	}, func(http, _ string) string { return http })
}

// BenchmarkRouterGRPCHop is BenchmarkRouterHTTPHop through the router's gRPC door.
func BenchmarkRouterGRPCHop(b *testing.B) {
	benchHop(b, func(addr string) (func(context.Context) (outcome, error), func(), error) {
		return grpcCaller(kindRouter, addr, benchKey, 4)
	}, func(_, grpc string) string { return grpc })
}

func benchHop(b *testing.B, caller func(string) (func(context.Context) (outcome, error), func(), error), door func(http, grpc string) string) {
	ctx := context.Background()
	rt, shutdown, err := startBench(ctx, benchConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer shutdown()
	call, closeFn, err := caller(door(rt.Topology().HTTP, rt.Topology().GRPC))
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	for range 100 { // connections and lazy initialisation, not measured
		if o, err := call(ctx); o != served {
			b.Fatalf("warm-up request: outcome %d: %v", o, err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if o, err := call(ctx); o != served {
			b.Fatalf("outcome %d: %v", o, err)
		}
	}
}
