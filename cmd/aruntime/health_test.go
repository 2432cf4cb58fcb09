package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/aruntime/arcert/reference/jetstream"
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

// TestCheckHealthNATS: a JetStream server passes; a NATS server without JetStream answers but is
// unhealthy (a role would fail its stream set-up there); nothing listening is an error.
func TestCheckHealthNATS(t *testing.T) {
	ctx := context.Background()
	js, err := jetstream.Start("127.0.0.1:0", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer js.Shutdown()
	if err := checkHealth(ctx, js.URL()); err != nil {
		t.Errorf("JetStream server %s: %v, want healthy", js.URL(), err)
	}
	plain, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go plain.Start()
	defer plain.Shutdown()
	if !plain.ReadyForConnections(5 * time.Second) {
		t.Fatal("plain NATS server did not start")
	}
	if err := checkHealth(ctx, closedURL(t)+","+js.URL()); err != nil {
		t.Errorf("server list with one down: %v, want healthy (any server answering is enough)", err)
	}
	if err := checkHealth(ctx, js.URL()+",127.0.0.1:4222"); err == nil {
		t.Error("server list with an entry that is not a nats:// URL: healthy, want an error")
	}
	if err := checkHealth(ctx, plain.ClientURL()); !errors.Is(err, errUnhealthy) {
		t.Errorf("NATS without JetStream: %v, want errUnhealthy", err)
	}
	js.Shutdown()
	if err := checkHealth(ctx, js.URL()); err == nil {
		t.Errorf("stopped server %s: healthy, want an error", js.URL())
	}
}

// closedURL is a nats:// URL where nothing listens.
func closedURL(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return "nats://" + addr
}
