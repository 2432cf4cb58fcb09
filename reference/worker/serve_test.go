package worker

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

func TestServeReturnsAfterCancel(t *testing.T) {
	w := serve(t, testOptions("w1"))
	if err := w.stop(); err != nil {
		t.Fatalf("Serve = %v, want nil on cancel", err)
	}
	_, err := w.client.Health(authed(t.Context(), testToken), &arcertv1.HealthRequest{})
	assertCode(t, "Health after stop", err, codes.Unavailable)
}

func TestServeDrainsInFlightStreams(t *testing.T) {
	o := testOptions("w1")
	o.Worker.Engine.DecodeStepBase = 2 * time.Millisecond
	w := serve(t, o)
	stream, err := w.client.Generate(authed(t.Context(), testToken), request("acme", "drain me", 50))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- w.stop() }()
	tokens := 1
	for {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatalf("stream cut during drain after %d tokens: %v", tokens, err)
		}
		if msg.GetUsage() != nil {
			if got := msg.GetUsage().GetCompletionTokens(); got != 50 {
				t.Errorf("completion tokens = %d, want 50", got)
			}
			break
		}
		tokens++
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func TestServeCutsStreamsAfterDrainTimeout(t *testing.T) {
	o := testOptions("w1")
	o.DrainTimeout = 20 * time.Millisecond
	o.Worker.Engine.DecodeStepBase = 5 * time.Millisecond
	w := serve(t, o)
	stream, err := w.client.Generate(authed(t.Context(), testToken), request("acme", "endless", 100_000))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	if err := w.stop(); err != nil {
		t.Fatalf("Serve = %v, want nil after cutting", err)
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			break // cut, as expected
		}
		if msg.GetUsage() != nil {
			t.Fatal("a 100k-token stream completed within the drain timeout")
		}
	}
}

func TestServeReportsListenerFailure(t *testing.T) {
	srv, err := New(testOptions("w1"))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = lis.Close()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if err := srv.Serve(ctx, lis); err == nil || ctx.Err() != nil {
		t.Errorf("Serve on a closed listener = %v (ctx %v), want a prompt error", err, ctx.Err())
	}
}

func TestRegisterOnOwnServerAndRun(t *testing.T) {
	srv, err := New(testOptions("w1"))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	srv.Register(g)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	c := dial(t, lis.Addr().String())
	ctx := authed(t.Context(), testToken)

	h, err := c.Health(ctx, &arcertv1.HealthRequest{})
	if err != nil || h.GetHealthy() || h.GetReason() == "" {
		t.Errorf("before Run: health %v, %v; want unhealthy with a reason", h, err)
	}
	_, err = generate(t.Context(), c, request("acme", "hi", 1))
	assertCode(t, "Generate before Run", err, codes.Unavailable)

	runCtx, stopRun := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(runCtx) }()
	waitFor(t, "healthy after Run", func() bool {
		h, err := c.Health(ctx, &arcertv1.HealthRequest{})
		return err == nil && h.GetHealthy()
	})
	mustGenerate(t, c, request("acme", "hi", 3))
	if err := srv.Run(runCtx); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	lis2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(runCtx, lis2); !errors.Is(err, ErrRunning) {
		t.Errorf("Serve after Run = %v, want ErrRunning", err)
	}

	stopRun()
	if err := <-ran; err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
	h, err = c.Health(ctx, &arcertv1.HealthRequest{})
	if err != nil || h.GetHealthy() {
		t.Errorf("after Run: health %v, %v; want unhealthy", h, err)
	}
	_, err = generate(t.Context(), c, request("acme", "hi", 1))
	if status.Code(err) != codes.Unavailable {
		t.Errorf("Generate after Run: %v, want Unavailable", err)
	}
}
