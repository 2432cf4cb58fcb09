package grpcdriver

import (
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// TestOnlyReadySkipsUnreadyRouters: calls go only to the routers ready accepts, the Client it was
// made from keeps taking turns, and Endpoints lists the routers in order.
func TestOnlyReadySkipsUnreadyRouters(t *testing.T) {
	good := metadata.Pairs("arcert-outcome", "completed", "arcert-outcome-reason", "none", "x-request-id", "r1", "arcert-served-by", "region=eu; provider=p")
	fa, fb := &counted{fake: &fake{trailer: good, tokens: 1}}, &counted{fake: &fake{trailer: good, tokens: 1}}
	a, b := listenInference(t, fa), listenInference(t, fb)
	c, err := New(a, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if got := c.Endpoints(); len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("Endpoints() = %v, want [%s %s]", got, a, b)
	}
	lb := c.OnlyReady(func(addr string) bool { return addr == b })
	call := &arcertv1.CompleteRequest{Model: "m", Prompt: "p", MaxTokens: 1}
	for range 6 {
		if res, err := lb.Complete(t.Context(), "key", call); err != nil || res.Endpoint != b {
			t.Fatalf("call through the balancer: %v, sent to %q, want %s", err, res.Endpoint, b)
		}
	}
	for range 2 {
		if _, err := c.Complete(t.Context(), "key", call); err != nil {
			t.Fatal(err)
		}
	}
	if fa.n.Load() != 1 || fb.n.Load() != 7 {
		t.Errorf("the routers saw %d and %d calls, want 1 and 7", fa.n.Load(), fb.n.Load())
	}
}

// TestConnectedFollowsTheRouter: a router that is not listening is not connected; once it listens
// again, it is. (Whether resetting the backoff shortens the wait is not shown here: grpc-go 1.85
// reconnects this loopback case within the test's bound either way.)
func TestConnectedFollowsTheRouter(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	c, err := New(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if c.Connected("127.0.0.1:1") {
		t.Error("an address the Client does not know is connected")
	}
	// Idle at first counts as connected (the first call connects); it asks to connect, fails.
	_ = c.Connected(addr)
	waitFor(t, time.Second, func() bool { return !c.Connected(addr) }, "the connection to a closed port to fail")
	again, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	g := grpc.NewServer()
	arcertv1.RegisterInferenceServer(g, &fake{})
	go func() { _ = g.Serve(again) }()
	t.Cleanup(g.Stop)
	waitFor(t, time.Second, func() bool { return c.Connected(addr) }, "the connection to come back once the port listens")
}

// waitFor polls cond every 10 ms for up to within and fails the test naming what did not happen.
func waitFor(t *testing.T, within time.Duration, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
