package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestCheckHealth: 200 and SERVING pass; any other status, a refused connection and an unknown
// scheme fail, an answer that is not healthy with errUnhealthy.
func TestCheckHealth(t *testing.T) {
	ctx := context.Background()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no capacity", http.StatusServiceUnavailable)
	}))
	defer down.Close()

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("up", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("draining", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(g, hs)
	go func() { _ = g.Serve(lis) }()
	defer g.Stop()
	addr := lis.Addr().String()

	for _, target := range []string{ok.URL + "/healthz", "grpc://" + addr, "grpc://" + addr + "/up"} {
		if err := checkHealth(ctx, target); err != nil {
			t.Errorf("%s: %v, want healthy", target, err)
		}
	}
	for _, target := range []string{down.URL + "/healthz", "grpc://" + addr + "/draining"} {
		if err := checkHealth(ctx, target); !errors.Is(err, errUnhealthy) {
			t.Errorf("%s: %v, want errUnhealthy", target, err)
		}
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, target := range []string{closed.URL, "ftp://" + addr, "127.0.0.1:9000"} {
		if err := checkHealth(ctx, target); err == nil {
			t.Errorf("%s: healthy, want an error", target)
		}
	}
}
