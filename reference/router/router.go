// Package router is the reference runtime's front door. It authenticates every request and binds
// its identity once, plans where it may be served (the primary region's pool, another pool or
// region, a hosted provider, a declared fallback model: only what the tenant's data policy
// allows), admits it before any queue can grow (per-tenant quotas and concurrency, per-class
// bounded queues with deadlines), routes it to a healthy worker of the planned place by load and
// prefix affinity, classifies how it ended into exactly one outcome of the contract, and writes
// one evidence record for it. HTTP (OpenAI-compatible) and gRPC share one execution path, so the
// two wires can never disagree on an outcome.
package router

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/health"

	"github.com/aruntime/arcert/reference/admission"
	"github.com/aruntime/arcert/reference/batch"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/evidence"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/routing"
	"github.com/aruntime/arcert/reference/tooladapter"
)

// EvidenceStore is what the router needs of the evidence service: it writes one record per
// request and answers the evidence endpoint.
type EvidenceStore interface {
	evidence.Sink
	evidence.Reader
}

// Options are the parts a Router is assembled from.
type Options struct {
	Config   *config.Config
	Pool     *routing.Pool
	Evidence EvidenceStore
	// Registerer receives the router's Prometheus metrics; nil uses a private registry.
	Registerer prometheus.Registerer
	// Gatherer serves /metrics; nil serves the private registry.
	Gatherer prometheus.Gatherer
	Logger   *slog.Logger
	// Batches is the durable batch queue; nil serves no /v1/batches.
	Batches *batch.Store
	// Defects are deliberate bugs for the harness's negative controls; the zero value is the
	// conformant router.
	Defects Defects
}

// Router serves the data plane and the discovery endpoints of one runtime.
type Router struct {
	// connTenants is the GRPCQuotaByConnection defect's first tenant of each gRPC connection
	// (by peer address); unused by the conformant router.
	connTenants sync.Map
	cfg         *config.Config
	ids         *identity.Directory
	adm         *admission.Controller
	pool        *routing.Pool
	evidence    EvidenceStore
	metrics     *metrics
	gatherer    prometheus.Gatherer
	log         *slog.Logger
	models      map[string]config.Model
	batches     *batch.Store
	// places are the fallback chains, tenant policies and hosted providers requests are planned
	// over.
	places *places
	capMu  sync.Mutex // serialises syncCapacity
	// defects is Options.Defects.
	defects Defects
	ops     OperationsDefects // Options.Defects.Operations
	// health is the gRPC health service, kept in step with notReady by syncHealth.
	health *health.Server
	// tools is the tool adapter's client; nil when the runtime serves no runtime-side tool.
	tools *tooladapter.Client
	// inflight is router.max_inflight's count of completions in progress, both doors.
	inflight inflight
	// pending are the HTTP and gRPC completions' evidence records still being written.
	pending pendingRecords
}

// ErrOptions marks a Router that cannot be assembled from the options given.
var ErrOptions = errors.New("router: invalid options")

// New assembles a router. It registers itself for the pool's capacity changes, so call it before
// the pool's Run.
func New(o Options) (*Router, error) {
	if o.Config == nil || o.Pool == nil || o.Evidence == nil {
		return nil, errors.Join(ErrOptions, errors.New("config, pool and evidence are required"))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ac := admissionConfig(o.Config)
	ac.SharedFIFO = o.Defects.SharedFIFOClassQueue
	adm, err := admission.New(ac)
	if err != nil {
		return nil, err
	}
	if o.Registerer == nil {
		reg := prometheus.NewRegistry()
		o.Registerer, o.Gatherer = reg, reg
	}
	if o.Gatherer == nil {
		o.Gatherer = prometheus.DefaultGatherer
	}
	r := &Router{
		cfg:      o.Config,
		ids:      identity.NewDirectory(o.Config),
		adm:      adm,
		pool:     o.Pool,
		evidence: o.Evidence,
		gatherer: o.Gatherer,
		log:      o.Logger,
		models:   map[string]config.Model{},
		batches:  o.Batches,
		places:   newPlaces(o.Config, o.Logger, o.Defects.ProviderHTTP),
		defects:  o.Defects,
		ops:      o.Defects.Operations,
		health:   newHealth(),
	}
	r.inflight.max = r.maxInflight()
	for _, m := range o.Config.Models {
		r.models[m.Name] = m
	}
	if t := o.Config.Tools; t.Enabled() && t.AdapterURL != "" {
		r.tools = tooladapter.NewClient(t.AdapterURL, t.RouterKey)
	}
	if r.metrics, err = newMetrics(o.Registerer, o.Config, adm); err != nil {
		return nil, err
	}
	if err := registerTruncation(o.Registerer, o.Evidence); err != nil {
		return nil, err
	}
	o.Pool.OnChange(func(int) {
		declared := r.syncCapacity()
		// Under router.limits split this router admits into its part only: log both.
		r.log.Info("capacity changed", "slots", declared, "this_router_slots", r.adm.Snapshot().Capacity)
	})
	r.syncCapacity()
	return r, nil
}

// admissionConfig states the configuration's declared classes and quotas to the controller.
func admissionConfig(cfg *config.Config) admission.Config {
	ac := admission.Config{}
	for _, k := range cfg.TrafficClasses {
		ac.Classes = append(ac.Classes, admission.ClassSpec{Name: k.Name, Priority: k.Priority, QueueCapacity: k.QueueCapacity})
	}
	for _, t := range cfg.Tenants {
		ac.Tenants = append(ac.Tenants, admission.TenantSpec{
			Name:              t.Name,
			RequestsPerMinute: t.Quota.RequestsPerMinute,
			TokensPerMinute:   t.Quota.TokensPerMinute,
			MaxConcurrency:    t.Quota.MaxConcurrency,
			Weight:            t.Weight,
		})
	}
	return ac
}

// model looks a served model up by name.
func (r *Router) model(name string) (config.Model, bool) {
	m, ok := r.models[name]
	return m, ok
}

// drainPoll is how often Drain looks whether in-flight work has finished. It only bounds how late
// shutdown notices; correctness does not depend on it.
const drainPoll = 20 * time.Millisecond

// Drain stops admitting work: new and queued requests are shed with reason `draining`, while
// requests already running finish. It returns once none is in flight and at least notice has
// passed since draining began, or with ctx's error when ctx ends first. The notice keeps the
// router answering (shed, /healthz 503) for as long as a load balancer takes to see it is not
// ready: a router that closed its listeners at once would turn the requests sent in that gap into
// connection errors, where a shed with Retry-After tells the client what to do.
func (r *Router) Drain(ctx context.Context, notice time.Duration) error {
	r.adm.Drain()
	r.syncHealth()
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	until := time.Now().Add(notice)
	for r.adm.Snapshot().InFlight > 0 || time.Now().Before(until) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
