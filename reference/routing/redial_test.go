package routing

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// switchingProxy forwards each new connection to the upstream it holds at accept time, and keeps
// forwarding a connection where it first went: a proxy (or a name) in front of a restarted worker
// whose first dial after the restart landed on another worker, at the address it left.
type switchingProxy struct {
	lis      net.Listener
	upstream atomic.Pointer[string]
	// ended counts the connections whose client side (the router) closed or broke.
	ended atomic.Int32
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newSwitchingProxy(t *testing.T, upstream string) *switchingProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchingProxy{lis: lis}
	p.upstream.Store(&upstream)
	p.wg.Go(func() {
		for {
			down, err := lis.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", *p.upstream.Load())
			if err != nil {
				_ = down.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, down, up)
			p.mu.Unlock()
			p.wg.Go(func() { _, _ = io.Copy(up, down); p.ended.Add(1); _ = up.Close() })
			p.wg.Go(func() { _, _ = io.Copy(down, up); _ = down.Close() })
		}
	})
	t.Cleanup(func() {
		_ = lis.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// TestAConnectionToAnotherWorkerIsDialledAgain: once the declared worker's address answers as
// another worker, the router drops that connection, so the next dial (through a proxy, or a name
// resolved again) can reach the declared worker, which then comes back into rotation. Keeping the
// connection, healthy as a transport, would keep the declared worker out for as long as it lives.
func TestAConnectionToAnotherWorkerIsDialledAgain(t *testing.T) {
	other, _ := startWorker(t, "wb", 4, "m")
	declared, _ := startWorker(t, "wa", 4, "m")
	proxy := newSwitchingProxy(t, other)
	p := newPool(t, Options{Endpoints: []Endpoint{{ID: "wa", Address: proxy.lis.Addr().String(), Models: []string{"m"}}}, HealthInterval: testInterval})
	run(t, p)
	wa := p.Workers()[0]
	waitFor(t, "wa's address to be judged as answering for another worker", func() bool { return errors.Is(wa.Err(), errAnotherWorker) })
	proxy.upstream.Store(&declared) // the name resolves to the declared worker again
	waitFor(t, "wa back in rotation through a new connection", wa.Healthy)
}

// TestAGenerateAnsweredAsAnotherWorkerClosesItsConnection: a Generate whose header names another
// worker is refused and its connection closed by the router at once, without waiting for a
// health poll (none comes within the test) to find the address answering as another.
func TestAGenerateAnsweredAsAnotherWorkerClosesItsConnection(t *testing.T) {
	addr, _ := serveOn(t, func(g *grpc.Server) { arcertv1.RegisterWorkerServer(g, &splitWorker{generateAs: "wb"}) }, nil)
	proxy := newSwitchingProxy(t, addr)
	p := newPool(t, Options{HealthInterval: time.Hour, Endpoints: []Endpoint{{ID: "wa", Address: proxy.lis.Addr().String(), Models: []string{"m"}}}})
	runHealthy(t, p, 1)
	if n := proxy.ended.Load(); n != 0 {
		t.Fatalf("%d connections ended before the call", n)
	}
	stream, err := p.Workers()[0].Client.Generate(t.Context(), &arcertv1.GenerateRequest{Model: "m", Prompt: "p", MaxTokens: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.Unavailable {
		t.Fatalf("Recv = %v, want Unavailable: answered as another worker", err)
	}
	waitFor(t, "the router to close the connection wb answered on", func() bool { return proxy.ended.Load() == 1 })
}
