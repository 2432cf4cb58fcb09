package worker

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// TestStandardHealthFollowsServe: the standard gRPC health service answers without the worker's
// token, SERVING while the worker serves, and a prober watching it hears NOT_SERVING as soon as the
// worker starts to drain.
func TestStandardHealthFollowsServe(t *testing.T) {
	w := serve(t, testOptions("w1"))
	cc, err := grpc.NewClient(w.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	health := healthpb.NewHealthClient(cc)
	svc := &healthpb.HealthCheckRequest{Service: arcertv1.Worker_ServiceDesc.ServiceName}
	if r, err := health.Check(t.Context(), svc); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check = %v, %v; want SERVING", r.GetStatus(), err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	watch, err := health.Watch(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first Watch answer = %v, %v; want SERVING", r.GetStatus(), err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- w.stop() }()
	if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("Watch while draining = %v, %v; want NOT_SERVING", r.GetStatus(), err)
	}
	cancel() // the watch is the last call open; the drain ends with it
	if err := <-stopped; err != nil {
		t.Errorf("Serve = %v", err)
	}
}
