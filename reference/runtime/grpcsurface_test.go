package runtime

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcurl runs the real grpcurl (a Go tool of this module) with args and returns what it printed.
func grpcurl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // the first run builds grpcurl
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", append([]string{"tool", "grpcurl"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// mustGrpcurl is grpcurl that fails the test when grpcurl does.
func mustGrpcurl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := grpcurl(t, args...)
	if err != nil {
		t.Fatalf("grpcurl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TestGRPCReflectionAndHealth: grpcurl lists the router's services through reflection, calls
// Inference/Complete and the health service with nothing but the address; health says SERVING
// for the server and the Inference service while the router can take work, NOT_SERVING once it
// drains. A careless interceptor in front of the inference service (a negative control's defect)
// does not reach reflection or health. Workers and the cache answer health too.
func TestGRPCReflectionAndHealth(t *testing.T) {
	cfg := devConfig(t)
	careless := func(any, grpc.ServerStream, *grpc.StreamServerInfo, grpc.StreamHandler) error {
		return status.Error(codes.Unauthenticated, "careless gateway refuses everything")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	rt, err := Start(ctx, cfg, Options{Router: true, Workers: workerIDs(cfg), Cache: true,
		Defects: Defects{Identity: IdentityDefects{GRPCStream: careless}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = rt.Shutdown(sctx)
	})
	addr := rt.Topology().GRPC

	list := mustGrpcurl(t, "-plaintext", addr, "list")
	for _, svc := range []string{"arcert.v1.Inference", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if !strings.Contains(list, svc) {
			t.Errorf("grpcurl list does not show %s:\n%s", svc, list)
		}
	}
	if desc := mustGrpcurl(t, "-plaintext", addr, "describe", "arcert.v1.Inference.Complete"); !strings.Contains(desc, "CompleteRequest") {
		t.Errorf("describe Complete:\n%s", desc)
	}
	for _, svc := range []string{"", "arcert.v1.Inference"} {
		out := mustGrpcurl(t, "-plaintext", "-d", `{"service":"`+svc+`"}`, addr, "grpc.health.v1.Health/Check")
		if !strings.Contains(out, `"SERVING"`) {
			t.Errorf("health of %q: %s", svc, out)
		}
	}
	// The call itself reaches the inference service, where the careless interceptor refuses it.
	out, err := grpcurl(t, "-plaintext", "-H", "authorization: Bearer "+acmeKey,
		"-d", `{"model":"`+model+`","max_tokens":3,"messages":[{"role":"user","content":"hello"}]}`, addr, "arcert.v1.Inference/Complete")
	if err == nil || !strings.Contains(out, "careless gateway") {
		t.Errorf("Complete through the careless interceptor: %v\n%s", err, out)
	}

	if err := rt.front.drain(ctx, 0); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"", "arcert.v1.Inference"} {
		if out := mustGrpcurl(t, "-plaintext", "-d", `{"service":"`+svc+`"}`, addr, "grpc.health.v1.Health/Check"); !strings.Contains(out, `"NOT_SERVING"`) {
			t.Errorf("health of %q while draining: %s", svc, out)
		}
	}
	expectOutcome(t, get(t, rt, "/healthz", ""), 503, "shed", "draining")

	for id, w := range rt.Topology().Workers {
		if out := mustGrpcurl(t, "-plaintext", "-d", `{"service":"arcert.v1.Worker"}`, w, "grpc.health.v1.Health/Check"); !strings.Contains(out, `"SERVING"`) {
			t.Errorf("health of worker %s: %s", id, out)
		}
	}
	if out := mustGrpcurl(t, "-plaintext", "-d", `{"service":"arcert.v1.Cache"}`, rt.Topology().Cache, "grpc.health.v1.Health/Check"); !strings.Contains(out, `"SERVING"`) {
		t.Errorf("health of the cache: %s", out)
	}
}

// TestGRPCCompleteThroughGrpcurl: a user with grpcurl and an API key gets a completion and the
// contract's outcome trailers, with no proto files at hand.
func TestGRPCCompleteThroughGrpcurl(t *testing.T) {
	rt := start(t, devConfig(t))
	out := mustGrpcurl(t, "-plaintext", "-v", "-H", "authorization: Bearer "+acmeKey,
		"-d", `{"model":"`+model+`","max_tokens":3,"messages":[{"role":"user","content":"hello"}]}`,
		rt.Topology().GRPC, "arcert.v1.Inference/Complete")
	for _, want := range []string{"arcert-outcome: completed", "arcert-outcome-reason: none"} {
		if !strings.Contains(out, want) {
			t.Errorf("grpcurl output lacks %q:\n%s", want, out)
		}
	}
}
