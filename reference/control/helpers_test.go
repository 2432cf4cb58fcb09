package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	arjs "github.com/aruntime/arcert/reference/jetstream"
)

// testTimeout bounds every wait of a test; it is generous because the machine is shared and a
// JetStream restart recovers its file store before it answers.
const testTimeout = 60 * time.Second

// pollInterval is how often waitFor looks again.
const pollInterval = 10 * time.Millisecond

// digestOf is a valid pinned digest derived from s, so tests read as names.
func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// testEnv is an embedded JetStream server with a file store in a temporary directory.
type testEnv struct {
	t     *testing.T
	dir   string
	addr  string // host:port, kept so a restart comes back where clients reconnect
	srv   *arjs.Server
	nc    *nats.Conn
	store *Store
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	e := &testEnv{t: t, dir: t.TempDir(), addr: "127.0.0.1:0"}
	e.start()
	_, port, err := net.SplitHostPort(e.srv.URL()[len("nats://"):])
	if err != nil {
		t.Fatal(err)
	}
	e.addr = net.JoinHostPort("127.0.0.1", port)
	nc, js, err := arjs.Connect(e.srv.URL(), "control-test")
	if err != nil {
		t.Fatal(err)
	}
	e.nc = nc
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if e.store, err = Open(ctx, js, 1); err != nil {
		t.Fatal(err)
	}
	return e
}

// start runs the server on e.addr; the cleanup shuts down whichever server is running last.
func (e *testEnv) start() {
	e.t.Helper()
	srv, err := arjs.Start(e.addr, e.dir, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	first := e.srv == nil
	e.srv = srv
	if first {
		e.t.Cleanup(func() { e.srv.Shutdown() })
	}
}

// restart stops the server and starts it again on the same address and store directory.
func (e *testEnv) restart() {
	e.t.Helper()
	e.srv.Shutdown()
	e.start()
}

// ctx is a context bounded by testTimeout and ended with the test.
func (e *testEnv) ctx() context.Context {
	ctx, cancel := context.WithTimeout(e.t.Context(), testTimeout)
	e.t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or testTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(pollInterval)
	}
}
