// Package jetstream runs and reaches the NATS JetStream engine that holds the reference runtime's
// durable state: the batch queue, evidence, and the control plane's versioned documents. `aruntime
// up` embeds a server with file storage under its data directory; a real deployment points every
// role at an external cluster (three nodes, streams replicated three ways) instead.
package jetstream

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrNotReady means the embedded server did not accept connections in time.
var ErrNotReady = errors.New("jetstream: embedded server not ready")

// readyTimeout bounds the embedded server's start, file-store recovery included.
const readyTimeout = 30 * time.Second

// Server is an embedded NATS server with JetStream.
type Server struct {
	ns *server.Server
}

// Option changes the embedded server's options before it starts.
type Option func(*server.Options)

// SyncAlways makes the file store fsync every write before JetStream acknowledges it, instead of
// nats-server's default of syncing in the background every two minutes: what it costs is
// measured by reference/evidence's BenchmarkDurableAppend.
func SyncAlways() Option { return func(o *server.Options) { o.SyncAlways = true } }

// Start runs an embedded server on listen (host:port; port 0 picks one) that stores JetStream
// data under dir, so streams and key-value history survive a restart on the same directory.
func Start(listen, dir string, log *slog.Logger, options ...Option) (*Server, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("jetstream: listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("jetstream: listen %q: %w", listen, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: "aruntime-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
		NoLog:      true,
	}
	for _, o := range options {
		o(opts)
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(readyTimeout) {
		ns.Shutdown()
		return nil, fmt.Errorf("%w after %s (store %s)", ErrNotReady, readyTimeout, dir)
	}
	if log != nil {
		log.Info("jetstream listening", "url", ns.ClientURL(), "store", dir)
	}
	return &Server{ns: ns}, nil
}

// URL is the client URL of the server.
func (s *Server) URL() string { return s.ns.ClientURL() }

// Shutdown stops the server and waits for it, flushing the file store.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// reconnectWait is how long a client waits between reconnection attempts; clients retry forever,
// because the parts that use JetStream spool or fail requests while it is away rather than exit.
const reconnectWait = 250 * time.Millisecond

// Connect dials url as name and returns the connection and its JetStream context. The connection
// retries forever in the background; callers see errors on individual operations meanwhile.
func Connect(url, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("jetstream: connect %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	return nc, js, nil
}
