// Package registry runs an OCI registry inside the reference runtime: the
// distribution v3 registry with filesystem storage, served on a listener the
// caller chooses.
//
// It exists so `aruntime up` has somewhere to pull model artifacts from with
// no external service, over a real socket that can be cut like every other
// link; in production any OCI registry takes its place, because workers speak
// only the OCI distribution API to it (see reference/artifact).
package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"

	// The filesystem storage driver registers itself with the driver
	// factory that handlers.NewApp looks drivers up in.
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

// Sentinel errors of the registry, matched with errors.Is.
var (
	// ErrStart means the registry could not be started: its storage
	// directory or its listener could not be set up.
	ErrStart = errors.New("registry: cannot start")
)

// readHeaderTimeout bounds how long a client may take to send request
// headers, so a stalled connection cannot pin a server goroutine forever.
// Bodies are not bounded: a weights upload is as long as it is.
const readHeaderTimeout = 10 * time.Second

// Registry is a running in-process OCI registry. Stop it with Shutdown.
type Registry struct {
	lis  net.Listener
	srv  *http.Server
	app  *handlers.App
	log  *slog.Logger
	done chan struct{} // closed when Serve has returned
	err  error         // Serve's unexpected error; read after done
}

// Start serves an OCI registry storing blobs and manifests under rootDir
// (created if missing, kept after Shutdown so a restart serves the same
// content) on listen, e.g. "127.0.0.1:0" for a free loopback port. It serves
// plain HTTP with no authentication, which is why it belongs on loopback;
// log receives the registry's own messages (nil means slog.Default()).
func Start(listen, rootDir string, log *slog.Logger) (*Registry, error) {
	if log == nil {
		log = slog.Default()
	}
	if rootDir == "" {
		return nil, fmt.Errorf("%w: storage directory is empty", ErrStart)
	}
	if err := os.MkdirAll(rootDir, 0o750); err != nil {
		return nil, fmt.Errorf("%w: storage directory: %w", ErrStart, err)
	}
	secret, err := httpSecret()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	lis, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	bridgeLogs(log)

	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"filesystem": configuration.Parameters{"rootdirectory": rootDir},
			// The upload purger is a background goroutine on a jittered
			// timer; unfinished uploads on a loopback registry are few and
			// die with the storage directory.
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
		},
	}
	cfg.HTTP.Secret = secret
	r := &Registry{
		lis:  lis,
		app:  handlers.NewApp(context.Background(), cfg),
		log:  log,
		done: make(chan struct{}),
	}
	r.srv = &http.Server{Handler: r.app, ReadHeaderTimeout: readHeaderTimeout}
	go r.serve()
	log.Info("registry listening", "addr", r.Addr(), "root", rootDir)
	return r, nil
}

// serve runs the HTTP server until Shutdown closes it.
func (r *Registry) serve() {
	defer close(r.done)
	if err := r.srv.Serve(r.lis); !errors.Is(err, http.ErrServerClosed) {
		r.err = err
		r.log.Error("registry stopped serving", "err", err)
	}
}

// Addr is the host:port the registry listens on, the form oras-go and
// artifact.Push take as the registry address.
func (r *Registry) Addr() string { return r.lis.Addr().String() }

// Shutdown stops accepting connections, lets in-flight requests finish until
// ctx ends (then cuts them), and releases the registry's resources. Stored
// content stays on disk.
func (r *Registry) Shutdown(ctx context.Context) error {
	err := r.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, r.srv.Close())
	}
	<-r.done
	unbridgeLogs(r.log)
	return errors.Join(err, r.err, r.app.Shutdown())
}

// httpSecret makes the secret distribution signs upload state with. Setting
// one ourselves keeps it from warning that it generated a random one; a
// single in-process registry needs nothing shared across replicas.
func httpSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("http secret: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
