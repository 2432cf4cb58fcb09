package driver

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is a runtime that answers 204 once release is closed, counting the connections
// it accepted and the requests it holds.
type countingServer struct {
	url     string
	conns   atomic.Int64
	holding atomic.Int64
	release chan struct{}
}

func newCountingServer(t *testing.T) *countingServer {
	t.Helper()
	cs := &countingServer{release: make(chan struct{})}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		cs.holding.Add(1)
		defer cs.holding.Add(-1)
		<-cs.release
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			cs.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	cs.url = srv.URL
	return cs
}

// burst sends n concurrent calls through c, which the server holds until it holds waitFor of
// them and, for watch after that, no more; then it lets them all go. It fails the test unless
// every call is answered 204.
func burst(t *testing.T, c *Client, cs *countingServer, n int, waitFor int64, watch time.Duration) {
	t.Helper()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range n {
		wg.Go(func() {
			status, _, err := c.GetJSON(t.Context(), "/v1/models", "", nil)
			if err != nil || status != http.StatusNoContent {
				failed.Add(1)
			}
		})
	}
	if !poll(2*time.Second, func() bool { return cs.holding.Load() == waitFor }) {
		t.Errorf("the server held %d calls, want %d", cs.holding.Load(), waitFor)
	}
	if poll(watch, func() bool { return cs.holding.Load() > waitFor }) {
		t.Errorf("the server came to hold %d calls at once, want at most %d", cs.holding.Load(), waitFor)
	}
	close(cs.release)
	wg.Wait()
	cs.release = make(chan struct{})
	if failed.Load() > 0 {
		t.Fatalf("%d of %d calls were not answered 204", failed.Load(), n)
	}
}

// poll reports whether cond became true within d.
func poll(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// A burst's connections are kept for the next one: with the pool the driver had before (256), the
// second burst of 300 dialled 44 connections again, and an open-loop run at 10,000/s dialled
// thousands, each hiccup over the pool costing more dials.
func TestTheDriverKeepsABurstsConnections(t *testing.T) {
	const n = 300
	cs := newCountingServer(t)
	c := New(cs.url)
	burst(t, c, cs, n, n, 0)
	if got := cs.conns.Load(); got != n {
		t.Fatalf("the first burst of %d held at once opened %d connections", n, got)
	}
	burst(t, c, cs, n, n, 0)
	if got := cs.conns.Load() - n; got != 0 {
		t.Errorf("the second burst of %d opened %d more connections; the first burst's were not kept", n, got)
	}
}

// Past MaxConnsPerHost, calls wait in the driver for a connection instead of opening one each
// (which would run the harness out of file descriptors), are answered once one comes free, and
// are counted, so that a run can tell the harness held them.
func TestTheDriverBoundsItsConnections(t *testing.T) {
	const limit, n = 4, 10
	cs := newCountingServer(t)
	c := New(cs.url)
	c.hc, c.held = newHTTPClient(limit, limit), newHeld(limit, c.routes.bases)
	burst(t, c, cs, n, limit, 200*time.Millisecond) // only limit calls reach the server while it holds them
	if got := cs.conns.Load(); got != limit {
		t.Errorf("%d concurrent calls opened %d connections, want at most %d", n, got, limit)
	}
	if got := c.ConnectionWaits(); got != n-limit {
		t.Errorf("ConnectionWaits = %d after %d calls through %d connections, want %d", got, n, limit, n-limit)
	}
	burst(t, c, cs, limit, limit, 0)
	if got := c.ConnectionWaits(); got != n-limit {
		t.Errorf("ConnectionWaits = %d after a burst within the bound, want it unchanged at %d", got, n-limit)
	}
}

// The default client is the one these tests reason about: the bounds per router, and no bound
// over all routers that would shrink each one's pool when a target lists several.
func TestTheDefaultClientsPool(t *testing.T) {
	c := New("http://127.0.0.1:1", WithMoreEndpoints("http://127.0.0.1:2", "http://127.0.0.1:3"))
	tr, ok := c.hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("the default client's transport is %T", c.hc.Transport)
	}
	if tr.MaxIdleConnsPerHost != MaxIdleConnsPerHost || tr.MaxConnsPerHost != MaxConnsPerHost || tr.MaxIdleConns != 0 {
		t.Errorf("idle per router %d, per router %d, idle in all %d; want %d, %d and no bound",
			tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost, tr.MaxIdleConns, MaxIdleConnsPerHost, MaxConnsPerHost)
	}
	if c.held.bound != MaxConnsPerHost || len(c.held.inFlight) != 3 {
		t.Errorf("calls counted against %d at %d routers, want %d at 3", c.held.bound, len(c.held.inFlight), MaxConnsPerHost)
	}
	if own := New("http://127.0.0.1:1", WithHTTPClient(&http.Client{})); own.held.bound != 0 {
		t.Errorf("a caller's own client is counted against %d; its bound is unknown", own.held.bound)
	}
}

// WithMaxConnsPerRouter sets the bound the transport enforces and the one calls are counted
// against, keeping no more idle connections than it allows; a bound under 1 keeps the default.
func TestWithMaxConnsPerRouter(t *testing.T) {
	for _, tc := range []struct{ n, perHost, idle int }{
		{16, 16, 16},
		{8192, 8192, MaxIdleConnsPerHost},
		{0, MaxConnsPerHost, MaxIdleConnsPerHost},
	} {
		c := New("http://127.0.0.1:1", WithMaxConnsPerRouter(tc.n))
		tr := c.hc.Transport.(*http.Transport)
		if tr.MaxConnsPerHost != tc.perHost || tr.MaxIdleConnsPerHost != tc.idle || c.ConnectionBound() != int64(tc.perHost) {
			t.Errorf("WithMaxConnsPerRouter(%d): %d a router, %d idle, counted against %d; want %d, %d, %d",
				tc.n, tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost, c.ConnectionBound(), tc.perHost, tc.idle, tc.perHost)
		}
	}
	if own := New("http://127.0.0.1:1", WithHTTPClient(&http.Client{}), WithMaxConnsPerRouter(16)); own.ConnectionBound() != 0 {
		t.Errorf("a caller's own client is counted against %d; its bound is unknown", own.ConnectionBound())
	}
}
