// Package runtime assembles the reference runtime's roles from one configuration: the embedded
// default (`aruntime up`: every worker and the router in one process), or one role at a time
// (`aruntime router`, `aruntime worker`) for a multi-process deployment. Even embedded, every
// part talks over real loopback sockets, so that every link can be cut by the harness.
package runtime

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/control"
	"github.com/aruntime/arcert/reference/evidence"
	"github.com/aruntime/arcert/reference/router"
	"github.com/aruntime/arcert/reference/telemetry"
	"github.com/aruntime/arcert/reference/worker"
)

// Options choose which roles run and where they log.
type Options struct {
	// Router starts the router (HTTP and gRPC front doors).
	Router bool
	// Workers lists the ids of the workers to start here; nil starts none.
	Workers []string
	Logger  *slog.Logger
	// SeedArtifacts, when set, fills the in-process registry once it listens (the embedded
	// default pushes its fixture artifacts); ArtifactKey is the signature policy's key when the
	// configuration names no key file.
	SeedArtifacts func(ctx context.Context, registryAddr string) error
	ArtifactKey   ed25519.PublicKey
	// Evidence runs the evidence service (the chain's single writer) here; `aruntime up` runs it
	// with the router whenever JetStream is embedded.
	Evidence bool
	// Cache serves the shared L2 tier here (cache.listen of the configuration).
	Cache bool
	// Tools runs the tool adapter here on tools.adapter_listen, without a router (`aruntime
	// tools`); the router of another process dials it at tools.adapter_url.
	Tools bool
	// DataDir holds the embedded JetStream store (batch queue, evidence, control plane). Empty
	// runs without durable parts unless the configuration names an external NATS.
	DataDir string
	// StartProvider starts a stand-in for each hosted provider whose base_url is `embedded` and
	// returns its base URL and how to stop it; `aruntime up` passes one that runs fixtures/provider,
	// which reference/ may not import. Nil leaves such providers out: the router then serves
	// without hosted fallback.
	StartProvider func(ctx context.Context, p config.Provider) (baseURL string, stop func() error, err error)
	// StartToolServer starts the stand-in tool server when tools.server_url is `embedded` and
	// returns its MCP endpoint, the URL of its record and how to stop it; `aruntime up` passes
	// fixtures/toolserver's. Nil leaves runtime-side tools unavailable (tool_unavailable).
	StartToolServer func(ctx context.Context, t config.Tools) (mcpURL, seenURL string, stop func() error, err error)
	// Interpose, when set, is asked for the address to dial for every dependency link, so the
	// harness can stand a fault proxy on each (see Link).
	Interpose Interposer
	// Defects break one rule on purpose, for the harness's negative controls only; the zero value
	// is the conformant runtime.
	Defects Defects
}

// Runtime is a running set of roles. Stop it with Shutdown.
type Runtime struct {
	cfg      *config.Config
	log      *slog.Logger
	registry *prometheus.Registry
	topology Topology

	cancel context.CancelFunc
	wg     sync.WaitGroup
	errMu  sync.Mutex
	err    error
	done   chan struct{}

	front    *front // nil when the router does not run here
	opts     Options
	durable  *durable // nil without durable parts
	control  *control.Store
	evidence router.EvidenceStore
	source   worker.ArtifactSource
	// partsDone counts the parts that use JetStream, so it stops only after them.
	partsDone sync.WaitGroup
	// workers are the worker instances running here, by id, for replacement.
	workersMu sync.Mutex // guards workers and the topology's maps once parts run
	workers   map[string]*workerHandle
	replaceMu sync.Mutex
	// frontStopped is closed once the router's front doors have stopped (at once if none runs).
	frontStopped chan struct{}
	frontOnce    sync.Once
	runCtx       context.Context
	// interposed maps each link to the address dialled for it (see interpose).
	interposed map[string]string
}

// Topology says where each running part listens and what it dials, for people and for the
// harness's target files.
type Topology struct {
	HTTP     string            `json:"http,omitempty"`
	GRPC     string            `json:"grpc,omitempty"`
	NATS     string            `json:"nats,omitempty"`
	Cache    string            `json:"cache,omitempty"`
	Registry string            `json:"registry,omitempty"`
	Evidence string            `json:"evidence,omitempty"`
	DataDir  string            `json:"data_dir,omitempty"`
	Workers  map[string]string `json:"workers"`
	// Providers maps each hosted provider the router may fall back to to its base URL.
	Providers map[string]string `json:"providers,omitempty"`
	// ToolAdapter is the tool adapter's base URL; ToolServer the tool server's MCP endpoint and
	// ToolServerSeen where the stand-in shows who called it.
	ToolAdapter    string `json:"tool_adapter,omitempty"`
	ToolServer     string `json:"tool_server,omitempty"`
	ToolServerSeen string `json:"tool_server_seen,omitempty"`
	// Dials maps each part to the addresses it dials.
	Dials map[string][]string `json:"dials"`
}

// ErrConfig marks a configuration that cannot run the roles asked for.
var ErrConfig = errors.New("runtime: configuration cannot run")

// Start starts the roles of o from cfg and returns once they listen. Workers start first, so that
// the router, when it runs here too, dials the ports they really got.
func Start(ctx context.Context, cfg *config.Config, o Options) (*Runtime, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if !o.Router && len(o.Workers) == 0 && !o.Cache && !o.Evidence && !o.Tools {
		return nil, fmt.Errorf("%w: no role to start", ErrConfig)
	}
	cfg = cloneWorkers(cfg)
	telemetry.EnsureProvider() // trace ids for evidence and traceresponse, even if nothing set tracing up
	tuneGC(cfg.Runtime)
	runCtx, cancel := context.WithCancel(context.Background())
	rt := &Runtime{cfg: cfg, log: o.Logger, opts: o, workers: map[string]*workerHandle{}, interposed: map[string]string{}, runCtx: runCtx, frontStopped: make(chan struct{}), registry: prometheus.NewRegistry(), cancel: cancel, done: make(chan struct{}),
		topology: Topology{Workers: map[string]string{}, Dials: map[string][]string{}}}
	rt.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := rt.startShared(ctx, runCtx); err != nil {
		rt.abort()
		return nil, err
	}
	for _, id := range o.Workers {
		if err := rt.startWorker(runCtx, id); err != nil {
			rt.abort()
			return nil, err
		}
	}
	if o.Router {
		if err := rt.startRouter(ctx, runCtx); err != nil {
			rt.abort()
			return nil, err
		}
	} else if o.Tools {
		if err := rt.startTools(ctx, runCtx); err != nil {
			rt.abort()
			return nil, err
		}
	}
	if !o.Router {
		rt.closeFront()
	}
	go func() { rt.wg.Wait(); close(rt.done) }()
	return rt, nil
}

// startShared starts what workers and the router both use, before either: JetStream, the
// control plane, the registry, the cache tier and the evidence store.
func (rt *Runtime) startShared(startCtx, ctx context.Context) error {
	o := rt.opts
	if (o.Router || len(o.Workers) > 0 || o.Evidence) && rt.wantsDurable() {
		if err := rt.startDurable(ctx); err != nil {
			return err
		}
		store, err := rt.openControl(startCtx)
		if err != nil {
			return err
		}
		rt.control = store
		if rt.cfg.Artifacts.RegistryListen != "" && rt.opts.DataDir != "" {
			if err := rt.startRegistry(startCtx, ctx); err != nil {
				return err
			}
		}
	}
	src, err := rt.artifactSource(startCtx)
	if err != nil {
		return err
	}
	rt.source = src
	if o.Cache {
		if err := rt.startCache(ctx); err != nil {
			return err
		}
	}
	switch {
	case rt.durable != nil && (o.Router || o.Evidence):
		if err := rt.startEvidence(startCtx, ctx); err != nil {
			return err
		}
	case o.Router:
		// Without JetStream there is nowhere durable to keep evidence: the in-memory store serves
		// the endpoint, and says in the topology that it is not durable.
		rt.evidence = evidence.NewMemoryBounded(evidenceCapacity, evidenceMemoryBytes(rt.cfg))
		rt.topology.Evidence = "in-memory (no --data: not durable)"
	}
	return nil
}

// cloneWorkers copies cfg deeply enough that filling in the ports workers really got, and the
// URLs of embedded providers, does not change the caller's configuration.
func cloneWorkers(cfg *config.Config) *config.Config {
	c := *cfg
	c.Workers = append([]config.Worker(nil), cfg.Workers...)
	c.Providers = append([]config.Provider(nil), cfg.Providers...)
	c.Cache = cfg.Cache
	c.Artifacts = cfg.Artifacts
	return &c
}

// Topology returns where the running parts listen: a copy, since a worker replacement updates
// the runtime's own.
func (rt *Runtime) Topology() Topology {
	rt.workersMu.Lock()
	defer rt.workersMu.Unlock()
	t := rt.topology
	t.Workers = maps.Clone(t.Workers)
	t.Dials = map[string][]string{}
	for k, v := range rt.topology.Dials {
		t.Dials[k] = slices.Clone(v)
	}
	return t
}

// Registry is where every part's metrics are, for a /metrics endpoint.
func (rt *Runtime) Registry() *prometheus.Registry { return rt.registry }

// Done is closed once every part has stopped, after Shutdown or a failure.
func (rt *Runtime) Done() <-chan struct{} { return rt.done }

// Err is the first failure of a part, nil after a clean shutdown.
func (rt *Runtime) Err() error {
	rt.errMu.Lock()
	defer rt.errMu.Unlock()
	return rt.err
}

// fail records a part's failure and stops the rest: half a runtime is worse than none.
func (rt *Runtime) fail(part string, err error) {
	if err == nil || errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return
	}
	rt.errMu.Lock()
	if rt.err == nil {
		rt.err = fmt.Errorf("%s: %w", part, err)
	}
	rt.errMu.Unlock()
	rt.log.Error("part failed", "part", part, "err", err)
	rt.cancel()
}

// go runs fn as a part of the runtime.
func (rt *Runtime) goPart(part string, fn func() error) {
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		rt.fail(part, fn())
	}()
}

// goDependent runs fn as a part that uses JetStream, which therefore outlives it.
func (rt *Runtime) goDependent(part string, fn func() error) {
	rt.partsDone.Add(1)
	rt.goPart(part, func() error {
		defer rt.partsDone.Done()
		return fn()
	})
}

// closeFront says the front doors have stopped (or never ran).
func (rt *Runtime) closeFront() { rt.frontOnce.Do(func() { close(rt.frontStopped) }) }

// abort stops what a failed Start had already started.
func (rt *Runtime) abort() {
	rt.closeFront() // a router that never started has nothing left to record
	rt.cancel()
	rt.wg.Wait()
}

// Shutdown drains the router (new work is shed with reason `draining` while running work finishes,
// up to the configured drain timeout or ctx), then stops every part.
func (rt *Runtime) Shutdown(ctx context.Context) error {
	if rt.front != nil {
		dctx, cancel := context.WithTimeout(ctx, rt.cfg.Router.DrainTimeout)
		if err := rt.front.drain(dctx, rt.cfg.Router.DrainNotice); err != nil {
			rt.log.Warn("drain cut short", "err", err)
		}
		cancel()
	}
	rt.cancel()
	select {
	case <-rt.done:
		return rt.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// listen opens addr, naming the part in the error so a port clash says who wanted the port.
func listen(part, addr string) (net.Listener, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", part, addr, err)
	}
	return lis, nil
}

// shutdownGrace bounds the last stage of stopping a server after draining.
const shutdownGrace = 5 * time.Second
