package evidence

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/aruntime/arcert/api/discovery"
	arjs "github.com/aruntime/arcert/reference/jetstream"
)

// testTimeout bounds every wait of these tests: generous for a loaded two-core machine under the
// race detector, and a hang still fails instead of stalling the run.
const testTimeout = 30 * time.Second

// node is an embedded JetStream server on a directory that outlives it, so a test can stop it
// and start it again on the same store and the same port, as an outage does.
type node struct {
	t      testing.TB
	dir    string
	listen string
	srv    *arjs.Server
	// options are the embedded server's (e.g. arjs.SyncAlways), kept for its restarts.
	options []arjs.Option
}

// startNode starts a server on a fresh directory and a free port, stopped at cleanup.
func startNode(t testing.TB, options ...arjs.Option) *node {
	t.Helper()
	n := &node{t: t, dir: t.TempDir(), listen: "127.0.0.1:0", options: options}
	n.start()
	u, err := url.Parse(n.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	n.listen = u.Host // restarts reuse the port, so connected clients find it again
	t.Cleanup(n.stop)
	return n
}

func (n *node) start() {
	n.t.Helper()
	srv, err := arjs.Start(n.listen, n.dir, nil, n.options...)
	if err != nil {
		n.t.Fatal(err)
	}
	n.srv = srv
}

func (n *node) stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv = nil
	}
}

// connect opens a client connection, closed at cleanup.
func (n *node) connect(name string) jetstream.JetStream {
	n.t.Helper()
	nc, js, err := arjs.Connect(n.srv.URL(), name)
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(nc.Close)
	return js
}

// ctx is a context bounded by testTimeout.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// runService runs a Service until the returned stop is called (or cleanup), and fails the test if
// Run returns an error.
func runService(t testing.TB, js jetstream.JetStream, o ServiceOptions) (*Service, func()) {
	t.Helper()
	if o.FetchWait == 0 {
		o.FetchWait = 200 * time.Millisecond // rounds end quickly, so stops do too
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = 100 * time.Millisecond
	}
	if o.Logger == nil && testing.Verbose() {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	s, err := NewService(js, o)
	if err != nil {
		t.Fatal(err)
	}
	return s, runUntilStopped(t, "service", s.Run)
}

// runClient runs c's replay loop until the returned stop is called (or cleanup).
func runClient(t testing.TB, c *Client) func() {
	t.Helper()
	return runUntilStopped(t, "client", c.Run)
}

// runUntilStopped runs run in a goroutine; the returned function cancels it and waits for it.
func runUntilStopped(t testing.TB, what string, run func(context.Context) error) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := run(ctx); err != nil {
			t.Errorf("%s Run: %v", what, err)
		}
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(testTimeout):
				t.Errorf("%s Run did not return after cancel", what)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// newClient returns a Client spooling under a fresh directory, closed at cleanup.
func newClient(t testing.TB, js jetstream.JetStream, log *slog.Logger) *Client {
	t.Helper()
	c, err := NewClient(js, ClientOptions{SpoolPath: filepath.Join(t.TempDir(), "evidence.spool"), Logger: log, ReplayInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// eventually polls cond until it holds, failing the test with what after testTimeout.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(testTimeout)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// chainLen is the chain stream's last sequence, 0 if it cannot be read.
func chainLen(ctx context.Context, js jetstream.JetStream) uint64 {
	st, err := js.Stream(ctx, ChainStream)
	if err != nil {
		return 0
	}
	return st.CachedInfo().State.LastSeq
}

// waitChained waits until the chain holds n records and returns them all.
func waitChained(t testing.TB, js jetstream.JetStream, n uint64) []discovery.Record {
	t.Helper()
	ctx := testCtx(t)
	eventually(t, "the chain to hold records", func() bool { return chainLen(ctx, js) >= n })
	c := &Client{js: js}
	recs, err := c.Since(ctx, 0, math.MaxInt)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(recs)) != n {
		t.Fatalf("chain holds %d records, want %d", len(recs), n)
	}
	return recs
}

// mustVerify runs VerifyStream and fails unless the chain is whole with want records.
func mustVerify(t testing.TB, js jetstream.JetStream, want uint64) VerifyReport {
	t.Helper()
	rep, err := VerifyStream(testCtx(t), js)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err() != nil || rep.Records != want || (want > 0 && (rep.FirstSeq != 1 || rep.LastSeq != want)) {
		t.Fatalf("VerifyStream = %+v (%v), want %d whole records", rep, rep.Err(), want)
	}
	return rep
}

// logBuffer is a concurrency-safe log sink, so tests can look for what was reported.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// isNotFound reports whether err is the evidence ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
