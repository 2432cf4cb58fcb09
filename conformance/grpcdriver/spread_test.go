package grpcdriver

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// counted is a fake router that counts the calls that reached it.
type counted struct {
	*fake
	n atomic.Int64
}

func (c *counted) Complete(req *arcertv1.CompleteRequest, s grpc.ServerStreamingServer[arcertv1.CompleteResponse]) error {
	c.n.Add(1)
	return c.fake.Complete(req, s)
}

// listenInference serves srv as a router on a loopback port until the test ends and returns its
// address.
func listenInference(t *testing.T, srv arcertv1.InferenceServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	arcertv1.RegisterInferenceServer(g, srv)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

// TestSpreadTakesTurns: calls from many goroutines at once split evenly over two routers, and
// each Result names the router its call reached.
func TestSpreadTakesTurns(t *testing.T) {
	good := metadata.Pairs("arcert-outcome", "completed", "arcert-outcome-reason", "none", "x-request-id", "r1", "arcert-served-by", "region=eu; provider=p")
	fa, fb := &counted{fake: &fake{trailer: good, tokens: 1}}, &counted{fake: &fake{trailer: good, tokens: 1}}
	a, b := listenInference(t, fa), listenInference(t, fb)
	c, err := New(a, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	const calls = 20
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			res, err := c.Complete(t.Context(), "key", &arcertv1.CompleteRequest{Model: "m", Prompt: "p", MaxTokens: 1})
			if err != nil || res.Outcome != "completed" {
				t.Errorf("call: %v, outcome %q", err, res.Outcome)
			}
			mu.Lock()
			seen[res.Endpoint]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if fa.n.Load() != calls/2 || fb.n.Load() != calls/2 {
		t.Errorf("the routers saw %d and %d calls, want %d each", fa.n.Load(), fb.n.Load(), calls/2)
	}
	if seen[a] != calls/2 || seen[b] != calls/2 {
		t.Errorf("results name endpoints %v, want %d each of %s and %s", seen, calls/2, a, b)
	}
}
