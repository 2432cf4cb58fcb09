package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/reference/batch"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/control"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/router"
	"github.com/aruntime/arcert/reference/routing"
	"github.com/aruntime/arcert/reference/worker"
	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
)

// evidenceCapacity bounds the in-memory evidence store of this stage: enough for every request of
// a certification run; the durable JetStream service replaces it.
const evidenceCapacity = 1 << 20

// evidenceMemoryBytes is the byte bound of the in-memory evidence store: the configuration's, or
// the default for a configuration built in code rather than parsed (which applies it).
func evidenceMemoryBytes(cfg *config.Config) uint64 {
	if cfg.Evidence.MemoryBytes == 0 {
		return config.DefaultEvidenceMemoryBytes
	}
	return cfg.Evidence.MemoryBytes
}

// startWorker starts worker id on its configured listen address (or, for a replacement, on the
// address its predecessor had) and records the port it got.
func (rt *Runtime) startWorker(parent context.Context, id string) error {
	idx := -1
	for i, w := range rt.cfg.Workers {
		if w.ID == id {
			idx = i
		}
	}
	if idx < 0 {
		return fmt.Errorf("%w: no worker %q in %s", ErrConfig, id, rt.cfg.Source)
	}
	_, err := rt.startWorkerAs(parent, rt.cfg.Workers[idx], idx, 0)
	return err
}

// startWorkerAs starts worker w, the configuration's idx-th (or, with idx beyond the configured
// workers, an instance the autoscaler added), and returns the address it listens on. warm is a
// load time it pays after pulling its pinned artifacts and before it listens, as a new
// instance loading its weights does.
func (rt *Runtime) startWorkerAs(parent context.Context, w config.Worker, idx int, warm time.Duration) (string, error) {
	id := w.ID
	ctx, cancel := context.WithCancel(parent)
	started := false
	defer func() {
		if !started {
			cancel()
		}
	}()
	var models []config.Model
	for _, name := range w.Models {
		m, _ := rt.cfg.Model(name)
		models = append(models, m)
	}
	l2, err := rt.l2For(ctx, w, models)
	if err != nil {
		return "", fmt.Errorf("worker %s: %w", id, err)
	}
	obs, err := worker.NewStepMetrics(rt.registry, id)
	if err != nil {
		return "", fmt.Errorf("worker %s: %w", id, err)
	}
	devMetrics, err := worker.NewDeviceMetrics(rt.registry, id)
	if err != nil {
		return "", fmt.Errorf("worker %s: %w", id, err)
	}
	wo := worker.Options{DeviceMetrics: devMetrics,
		Worker: w, Models: models, Runtime: rt.cfg.Runtime, Token: rt.cfg.Router.WorkerToken, Index: idx,
		Logger: rt.log.With("part", "worker"), Observer: obs, Salt: rt.opts.Defects.WorkerSalt,
	}
	if l2 != nil { // a nil *cache.Client in the interface would not read as "no tier"
		wo.L2 = l2
	}
	if rt.source != nil {
		wo.Artifacts = rt.source
	}
	srv, err := worker.New(wo)
	if err != nil {
		return "", fmt.Errorf("worker %s: %w", id, err)
	}
	if rt.source != nil {
		if err := verifyPins(ctx, srv, w, models); err != nil {
			return "", err
		}
	}
	if err := sleepCtx(ctx, warm); err != nil {
		return "", fmt.Errorf("worker %s: loading its models: %w", id, err)
	}
	if rt.control != nil && rt.source != nil && !rt.replacedOffControl(w) {
		if err := rt.startApplier(ctx, srv, w, models); err != nil {
			return "", err
		}
	}
	at := w.Listen
	rt.workersMu.Lock()
	if prev, ok := rt.topology.Workers[id]; ok {
		at = prev // a replacement takes its predecessor's address, which the router dials
	}
	rt.workersMu.Unlock()
	lis, err := listen("worker "+id, at)
	if err != nil {
		return "", err
	}
	addr := lis.Addr().String()
	done := make(chan struct{})
	rt.workersMu.Lock()
	rt.topology.Workers[id] = addr
	h := &workerHandle{stop: cancel, done: done, lis: lis, srv: srv, forget: func() { obs.Forget(); devMetrics.Forget() }}
	rt.workers[id] = h
	rt.workersMu.Unlock()
	if idx < len(rt.cfg.Workers) && (w.Address == "" || strings.HasSuffix(w.Address, ":0")) {
		rt.cfg.Workers[idx].Address = addr
	}
	started = true
	rt.goPart("worker "+id, func() error {
		defer close(done)
		err := srv.Serve(ctx, lis)
		if h.killed.Load() {
			return nil // a kill is a fault the harness injected, not a failure of the runtime
		}
		return err
	})
	rt.log.Info("worker listening", "worker", id, "addr", addr, "region", w.Region, "pool", w.Pool)
	return addr, nil
}

// sleepCtx waits d, or less if ctx ends first (then it returns ctx's error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// front is the router role: its pool of workers and its two front doors.
type front struct {
	router *router.Router
	pool   *routing.Pool
	http   *http.Server
	grpc   *grpc.Server
}

// startRouter starts the router on its configured addresses, dialling every configured worker.
func (rt *Runtime) startRouter(startCtx, ctx context.Context) error {
	cfg := rt.cfg
	var eps []routing.Endpoint
	for _, w := range cfg.Workers {
		addr := w.DialAddress()
		if strings.HasSuffix(addr, ":0") {
			return fmt.Errorf("%w: worker %s has no address the router can dial (listen %s); give it an address, or run it in this process", ErrConfig, w.ID, addr)
		}
		dial, err := rt.interpose(startCtx, Link{Role: link.RoleRegion, Name: w.Region, Part: w.ID, Upstream: addr})
		if err != nil {
			return fmt.Errorf("router: %w", err)
		}
		eps = append(eps, routing.Endpoint{ID: w.ID, Address: dial, Region: w.Region, Pool: w.Pool, Models: w.Models, Role: w.Role,
			Elastic: cfg.Autoscale.Enabled() && w.ID == cfg.Autoscale.Worker})
		rt.topology.Dials["router"] = append(rt.topology.Dials["router"], dial)
	}
	verifier, err := rt.opts.Defects.Confidential.verifier(cfg)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.Attestation.InsecureTestKey {
		rt.log.Warn("attestation trusts the public TEST-ONLY key (attestation.insecure_test_key): anyone can sign a report it verifies; never use it in production")
	}
	pool, err := routing.New(routing.Options{Endpoints: eps, Token: cfg.Router.WorkerToken, HealthInterval: cfg.Router.HealthInterval,
		AffinitySlack: cfg.Router.AffinitySlack, Logger: rt.log.With("part", "routing"), Attestation: verifier,
		KeepsVerdict: rt.opts.Defects.Confidential.KeepsVerdict})
	if err != nil {
		return fmt.Errorf("router: %w", err)
	}
	if err := rt.startProviders(startCtx, ctx); err != nil {
		_ = pool.Close()
		return err
	}
	if err := rt.startTools(startCtx, ctx); err != nil {
		_ = pool.Close()
		return err
	}
	// The router serves /v1/batches from the store, and the store's jobs run through the router:
	// the store opens first, the runner starts once the router exists.
	var batches *batch.Store
	if rt.durable != nil {
		if batches, err = rt.openBatches(startCtx, ctx); err != nil {
			_ = pool.Close()
			return fmt.Errorf("batch queue: %w", err)
		}
	}
	r, err := router.New(router.Options{Config: cfg, Pool: pool, Evidence: rt.evidence, Batches: batches,
		Registerer: rt.registry, Gatherer: rt.registry, Logger: rt.log.With("part", "router"),
		Defects: rt.opts.Defects.router()})
	if err != nil {
		_ = pool.Close()
		return fmt.Errorf("router: %w", err)
	}
	if err := rt.startPeers(startCtx, r); err != nil {
		_ = pool.Close()
		return err
	}
	if batches != nil {
		rt.runBatches(ctx, batches, rt.opts.Defects.Tenancy.batchExec(r.ExecBatchJob))
	}
	httpLis, err := listen("router http", cfg.Router.HTTPListen)
	if err != nil {
		_ = pool.Close()
		return err
	}
	limited, err := limitConnections(rt.registry, httpLis, cfg.Router)
	if err != nil {
		_ = httpLis.Close()
		_ = pool.Close()
		return err
	}
	httpLis = limited
	grpcLis, err := listen("router grpc", cfg.Router.GRPCListen)
	if err != nil {
		_ = httpLis.Close()
		_ = pool.Close()
		return err
	}
	handler := r.Handler()
	if rt.control != nil {
		mux := http.NewServeMux()
		dir := identity.NewDirectory(cfg)
		mux.Handle(control.PathPrefix, control.Handler(rt.control, dir, rt.controlOptions()))
		mux.HandleFunc("POST "+control.PathPrefix+"workers/{id}/replace", rt.replaceHandler(dir))
		mux.HandleFunc("GET "+CredentialsPath, rt.credentialsHandler(dir))
		mux.Handle("/", handler)
		handler = mux
	}
	handler = routing.WithDeviceHook(handler, pool, identity.NewDirectory(cfg))
	if rt.opts.Defects.WrapHTTP != nil {
		handler = rt.opts.Defects.WrapHTTP(handler)
	}
	f := &front{router: r, pool: pool, http: &http.Server{Handler: handler, ReadHeaderTimeout: readHeaderTimeout, MaxHeaderBytes: maxHeaderBytes, IdleTimeout: idleTimeout, Protocols: httpProtocols()}, grpc: grpc.NewServer(append([]grpc.ServerOption{grpc.ChainStreamInterceptor(r.StreamBound)}, rt.opts.Defects.grpcServerOptions()...)...)}
	r.RegisterGRPC(f.grpc)
	// Reflection lets grpcurl, grpcui and Postman list and call the services without the proto files.
	reflection.Register(f.grpc)
	rt.front = f
	rt.topology.HTTP, rt.topology.GRPC = httpLis.Addr().String(), grpcLis.Addr().String()

	rt.goPart("routing", func() error { pool.Run(ctx); return pool.Close() })
	if err := rt.startAutoscaler(ctx, pool); err != nil {
		return err
	}
	rt.goPart("router http", func() error { return f.http.Serve(httpLis) })
	rt.goPart("router grpc", func() error { return f.grpc.Serve(grpcLis) })
	// The front doors stop before anything they write to: JetStream waits for this part, and the
	// evidence client closes its spool only after frontStopped, so a handler still recording a
	// request's evidence during shutdown neither fails nor loses the record.
	rt.goDependent("router stop", func() error {
		<-ctx.Done()
		defer rt.closeFront()
		return f.stop()
	})
	rt.log.Info("router listening", "http", rt.topology.HTTP, "grpc", rt.topology.GRPC, "workers", len(eps))
	if len(eps) > 0 {
		// Serving before any worker is healthy would shed the first requests for no reason, and
		// serving before all are would send a tenant's first requests to a worker its prefix
		// affinity leaves as soon as the others come up. So wait for all, for a while, then
		// for at least one.
		allCtx, cancel := context.WithTimeout(startCtx, allWorkersWait)
		err := pool.WaitHealthy(allCtx, len(eps))
		cancel()
		if err != nil {
			rt.log.Warn("starting without every worker healthy", "workers", len(eps), "waited", allWorkersWait)
			if err := pool.WaitHealthy(startCtx, 1); err != nil {
				return fmt.Errorf("router: waiting for a healthy worker: %w", err)
			}
		}
	}
	return nil
}

// httpProtocols are what the router's plain-text HTTP port speaks: HTTP/1.1, and HTTP/2 with prior
// knowledge (h2c), which gRPC-minded proxies and clients such as curl --http2-prior-knowledge use.
func httpProtocols() *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &p
}

// allWorkersWait bounds how long the router waits at start for every configured worker.
const allWorkersWait = 5 * time.Second

// readHeaderTimeout bounds a client that opens a connection and never finishes its headers.
const readHeaderTimeout = 10 * time.Second

// maxHeaderBytes bounds a request's header block (net/http's default is 1 MiB): a completion's
// headers are a credential, a trace context and a few contract headers, so 64 KiB is far beyond
// an honest client's, and a client past it is answered 431 before its body is read. An HTTP/2
// client is held to the same bound (the server's SETTINGS_MAX_HEADER_LIST_SIZE).
const maxHeaderBytes = 64 << 10

// idleTimeout closes a kept-alive connection that sends nothing for this long, so idle clients
// cannot hold the router's connection places (router.max_connections) for ever.
const idleTimeout = 2 * time.Minute

// recordsGrace bounds how long shutdown waits for the evidence of the last responses; one write
// gives up on JetStream after 2 s and spools its record instead.
const recordsGrace = 5 * time.Second

// drain sheds new work while running work finishes.
func (f *front) drain(ctx context.Context, notice time.Duration) error {
	return f.router.Drain(ctx, notice)
}

// stop closes both front doors: HTTP waits for open responses up to shutdownGrace.
func (f *front) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := f.http.Shutdown(ctx)
	stopped := make(chan struct{})
	go func() { f.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-ctx.Done():
		f.grpc.Stop()
	}
	// The last responses' evidence is written after their handlers returned: let it finish
	// before the evidence client closes its spool (after frontStopped).
	// Each write is bounded (then spooled), so recordsGrace is only a backstop.
	rctx, rcancel := context.WithTimeout(context.Background(), recordsGrace)
	defer rcancel()
	_ = f.router.WaitRecords(rctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // cut connections after the grace period, as promised
	}
	return err
}
