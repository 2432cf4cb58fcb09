package routing

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/reference/grpckeepalive"
)

// silencer forwards TCP connections to an upstream until silence, from which the connections it
// holds carry nothing more either way but stay open, as a network that drops a worker's packets
// leaves them (or a proxy that keeps its side open); connections accepted afterwards are forwarded
// again, as they are once the worker is reachable again. Toxiproxy's timeout toxic cannot stand
// in: it holds new connections as it holds the open ones, and once removed it lets the old ones
// carry data again, so a router that never dials again would pass.
type silencer struct {
	lis      net.Listener
	upstream string
	mu       sync.Mutex
	gen      int // connections of an older generation than this are silenced
	conns    []net.Conn
}

func startSilencer(t *testing.T, upstream string) *silencer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silencer{lis: lis, upstream: upstream}
	go s.serve()
	t.Cleanup(func() {
		_ = lis.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			_ = c.Close()
		}
	})
	return s
}

func (s *silencer) addr() string { return s.lis.Addr().String() }

func (s *silencer) serve() {
	for {
		down, err := s.lis.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", s.upstream)
		if err != nil {
			_ = down.Close()
			continue
		}
		s.mu.Lock()
		gen := s.gen
		s.conns = append(s.conns, down, up)
		s.mu.Unlock()
		go s.pipe(gen, up, down)
		go s.pipe(gen, down, up)
	}
}

// pipe copies from src to dst while the connection's generation is current, and discards what
// src sends afterwards, so nothing answers and nothing is closed.
func (s *silencer) pipe(gen int, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		s.mu.Lock()
		live := gen == s.gen
		s.mu.Unlock()
		if !live {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// silence stops every connection open now from carrying anything.
func (s *silencer) silence() {
	s.mu.Lock()
	s.gen++
	s.mu.Unlock()
}

// TestASilentConnectionIsDialledAgain: a worker whose connection goes silent (open, answering
// nothing, never reset) leaves the rotation, and
// comes back once the worker at the same address answers on a new connection: the router pings
// the silent connection, closes it when the ping goes unanswered and dials again. Without
// keepalive every poll went down the dead connection and the worker never came back.
func TestASilentConnectionIsDialledAgain(t *testing.T) {
	addr, _ := startWorker(t, "wa", 4, "m")
	proxy := startSilencer(t, addr)
	p := newPool(t, Options{Endpoints: []Endpoint{{ID: "wa", Address: proxy.addr(), Models: []string{"m"}}}})
	runHealthy(t, p, 1)
	wa := p.Workers()[0]

	proxy.silence()
	waitWithin(t, testTimeout, "wa to leave rotation", func() bool { return !wa.Healthy() })
	left := time.Now()
	// The ping follows grpckeepalive.Time of silence and is given its Timeout; then a new dial.
	bound := grpckeepalive.Time + grpckeepalive.Timeout + reconnectMaxDelay + testTimeout
	waitWithin(t, bound, "wa back in rotation over a new connection", wa.Healthy)
	t.Logf("back in rotation %s after it left", time.Since(left).Round(100*time.Millisecond))
}
