// Package testrelay is a TCP relay for tests that stands between a client and a server as a proxy
// or a network would: a test can cut it (a host vanishing), mute it (a network that drops every
// packet: nothing fails, nothing arrives), point its new connections elsewhere (a name that now
// resolves to another address) and count the connections its client ended.
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
	muted    atomic.Bool
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
		r.track(down)
		if r.muted.Load() {
			r.wg.Go(func() { r.pipe(io.Discard, down) }) // accepted, never answered
			continue
		}
		up, err := net.Dial("tcp", *r.upstream.Load())
		if err != nil {
			_ = down.Close()
			continue
		}
		r.track(up)
		r.wg.Go(func() { r.pipe(up, down); r.ended.Add(1); _ = up.Close() })
		r.wg.Go(func() { r.pipe(down, up); _ = down.Close() })
	}
}

// track keeps c, for Cut to close.
func (r *Relay) track(c net.Conn) {
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
}

// pipe copies src to dst until src ends, dropping what src sends while the relay is muted.
func (r *Relay) pipe(dst io.Writer, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !r.muted.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Addr is the address clients dial.
func (r *Relay) Addr() string { return r.lis.Addr().String() }

// Mute drops every byte either way from now on, on live connections and new ones, without closing
// or resetting anything: the client's calls get no answer, as behind a network that drops packets.
func (r *Relay) Mute() { r.muted.Store(true) }

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
