package routing

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/internal/testrelay"
)

// TestAConnectionToAnotherWorkerIsDialledAgain: once the declared worker's address answers as
// another worker, the router drops that connection, so the next dial (through a proxy, or a name
// resolved again) can reach the declared worker, which then comes back into rotation. Keeping the
// connection, healthy as a transport, would keep the declared worker out for as long as it lives.
func TestAConnectionToAnotherWorkerIsDialledAgain(t *testing.T) {
	other, _ := startWorker(t, "wb", 4, "m")
	declared, _ := startWorker(t, "wa", 4, "m")
	proxy := testrelay.New(t, other)
	p := newPool(t, Options{Endpoints: []Endpoint{{ID: "wa", Address: proxy.Addr(), Models: []string{"m"}}}, HealthInterval: testInterval})
	run(t, p)
	wa := p.Workers()[0]
	waitFor(t, "wa's address to be judged as answering for another worker", func() bool { return errors.Is(wa.Err(), errAnotherWorker) })
	proxy.Point(declared) // the name resolves to the declared worker again
	waitFor(t, "wa back in rotation through a new connection", wa.Healthy)
}

// TestAGenerateAnsweredAsAnotherWorkerClosesItsConnection: a Generate whose header names another
// worker is refused and its connection closed by the router at once, without waiting for a
// health poll (none comes within the test) to find the address answering as another.
func TestAGenerateAnsweredAsAnotherWorkerClosesItsConnection(t *testing.T) {
	addr, _ := serveOn(t, func(g *grpc.Server) { arcertv1.RegisterWorkerServer(g, &splitWorker{generateAs: "wb"}) }, nil)
	proxy := testrelay.New(t, addr)
	p := newPool(t, Options{HealthInterval: time.Hour, Endpoints: []Endpoint{{ID: "wa", Address: proxy.Addr(), Models: []string{"m"}}}})
	runHealthy(t, p, 1)
	if n := proxy.Ended(); n != 0 {
		t.Fatalf("%d connections ended before the call", n)
	}
	stream, err := p.Workers()[0].Client.Generate(t.Context(), &arcertv1.GenerateRequest{Model: "m", Prompt: "p", MaxTokens: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.Unavailable {
		t.Fatalf("Recv = %v, want Unavailable: answered as another worker", err)
	}
	waitFor(t, "the router to close the connection wb answered on", func() bool { return proxy.Ended() == 1 })
}
