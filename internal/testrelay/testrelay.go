// Package testrelay is a TCP relay for tests that stands between a client and a server as a proxy
// or a network would: a test can cut it (a host vanishing), point its new connections elsewhere
// (a name that now resolves to another address) and count the connections its client ended.
package testrelay

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Relay forwards each connection to the upstream it holds when the connection is accepted, and
// keeps forwarding it there when the upstream changes, as a proxy resolving a name per dial does.
type Relay struct {
	lis      net.Listener
	upstream atomic.Pointer[string]
	ended    atomic.Int32
	mu       sync.Mutex
	conns    []net.Conn
	wg       sync.WaitGroup
}

// New starts a relay on a fresh 127.0.0.1 port to upstream; the test's end cuts it.
func New(t testing.TB, upstream string) *Relay {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{lis: lis}
	r.upstream.Store(&upstream)
	r.wg.Go(r.accept)
	t.Cleanup(r.Cut)
	return r
}

func (r *Relay) accept() {
	for {
		down, err := r.lis.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", *r.upstream.Load())
		if err != nil {
			_ = down.Close()
			continue
		}
		r.mu.Lock()
		r.conns = append(r.conns, down, up)
		r.mu.Unlock()
		r.wg.Go(func() { _, _ = io.Copy(up, down); r.ended.Add(1); _ = up.Close() })
		r.wg.Go(func() { _, _ = io.Copy(down, up); _ = down.Close() })
	}
}

// Addr is the address clients dial.
func (r *Relay) Addr() string { return r.lis.Addr().String() }

// Point sends the connections accepted from now on to upstream; live ones stay where they went.
func (r *Relay) Point(upstream string) { r.upstream.Store(&upstream) }

// Ended is how many relayed connections their client side closed or broke.
func (r *Relay) Ended() int { return int(r.ended.Load()) }

// Cut closes the listener and every live connection at once and waits for the relay to stop.
func (r *Relay) Cut() {
	_ = r.lis.Close()
	r.mu.Lock()
	for _, c := range r.conns {
		_ = c.Close()
	}
	r.conns = nil
	r.mu.Unlock()
	r.wg.Wait()
}
