// Package routing is the router's view of its workers: one gRPC client per
// worker, their health and load as last polled, and the choice of a worker
// for each request.
//
// It exists so that routing by health, load and prefix affinity is one small
// piece the router can rely on and the harness can reason about: a worker
// takes work only after it has said it is healthy, leaves the rotation as
// soon as a poll or a request to it fails, and the admission capacity the
// router advertises is the sum of what healthy workers declared.
package routing

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/grpckeepalive"
	"github.com/aruntime/arcert/reference/telemetry"
)

// Sentinel errors of the pool, matched with errors.Is. ErrUnknownModel and
// ErrNoWorker are kept apart because they are different outcomes: the first
// is the caller's mistake (rejected), the second a capacity failure (shed).
var (
	// ErrUnknownModel means no worker, healthy or not, serves the model.
	ErrUnknownModel = errors.New("routing: no worker serves the model")
	// ErrClosed means Add was called on a pool that Close has closed.
	ErrClosed = errors.New("routing: the pool is closed")
	// ErrNoWorker means workers serve the model but none is healthy now.
	ErrNoWorker = errors.New("routing: no healthy worker serves the model")
	// ErrOptions means Options cannot describe a usable pool.
	ErrOptions = errors.New("routing: invalid options")
)

// Timing defaults, named so no bare durations hide in the code.
const (
	// DefaultHealthInterval is the poll interval when Options.HealthInterval
	// is zero: a lost worker leaves the rotation within about a second.
	DefaultHealthInterval = time.Second
	// VersionsTimeout bounds each worker's Versions call, so one hung
	// worker cannot hold up the versions endpoint.
	VersionsTimeout = 2 * time.Second
	// reconnectMaxDelay caps gRPC's reconnect backoff (120s by default), so
	// a restarted worker is back in rotation within a few seconds.
	reconnectMaxDelay = 2 * time.Second
	// connectTimeout bounds one connection attempt (gRPC's MinConnectTimeout,
	// 20 s by default). Behind a proxy that accepts at once and then dials a
	// worker that is gone (its name no longer resolves, so the lookup waits on
	// a resolver that does not answer), an attempt hangs rather than fails;
	// with the default, a worker restarted meanwhile stayed out of rotation
	// for up to 20 s past its start (CI saw more than a minute once). A worker
	// on a data-center network handshakes in milliseconds.
	connectTimeout = 5 * time.Second
)

// Endpoint is one worker as the configuration declares it.
type Endpoint struct {
	ID, Address, Region, Pool string
	Models                    []string
	// Role is "" (mixed), "decode" or "prefill": prefill workers are never picked to serve a
	// request, only to prefill one for a decode worker (PrefillFor).
	Role string
	// Elastic marks a worker of an autoscaled group: it serves, but its slots are not the
	// router's admission capacity (Capacity leaves them out), so scaling the group moves no
	// other model's capacity.
	Elastic bool
}

// Options configures a Pool.
type Options struct {
	Endpoints []Endpoint
	// Token is the worker credential, sent as `authorization: Bearer` on
	// every call; it is never a tenant credential.
	Token string
	// HealthInterval is how often each worker is polled, and the timeout of
	// each poll; zero means DefaultHealthInterval.
	HealthInterval time.Duration
	// AffinitySlack is how many more outstanding requests the prefix-affine
	// worker may have than the least loaded one before load wins.
	AffinitySlack int
	Logger        *slog.Logger // nil means slog.Default()
	// Attestation verifies what workers present on every health poll; nil attests no worker, so
	// a confidential tenant is served nowhere.
	Attestation Verifier
	// KeepsVerdict is a defect, set only by the negative controls (fixtures/negative): a worker
	// that presents no attestation keeps its last verdict, and a kept verdict's age is never
	// rechecked.
	KeepsVerdict bool
}

// Pool is the set of workers a router routes to. It is safe for concurrent
// use; Pick is on every request's path and holds one mutex briefly. The set
// itself is copy-on-write behind an atomic pointer, so an autoscaler may Add
// and Remove workers while requests are picked, without a lock on the read.
type Pool struct {
	set      atomic.Pointer[members]
	setMu    sync.Mutex // serialises Add and Remove: each copies the set it replaces
	closed   bool       // set by Close under setMu: Add then refuses, its connection would leak
	token    string
	interval time.Duration
	slack    int64
	log      *slog.Logger
	verifier Verifier
	keeps    bool // Options.KeepsVerdict

	mu   sync.Mutex // makes Pick's choice and its increment one step
	next int        // rotates where Pick starts, so ties are spread

	running  atomic.Bool
	onChange func(capacity int) // set before Run, called only by Run
	// runCtx and watchers let Add start a poller for a worker added while Run runs; guarded by
	// setMu.
	runCtx   context.Context
	watchers sync.WaitGroup

	changeMu sync.Mutex
	changed  chan struct{} // closed and replaced on every health change
	kick     chan struct{} // capacity 1: Run should recheck capacity
}

// New builds a client per endpoint. Nothing is dialled here: connections
// are made lazily by the first call, so New never blocks on a worker.
func New(o Options) (*Pool, error) {
	if o.Token == "" {
		return nil, fmt.Errorf("%w: Token is empty", ErrOptions)
	}
	if o.HealthInterval < 0 || o.AffinitySlack < 0 {
		return nil, fmt.Errorf("%w: HealthInterval %v and AffinitySlack %d must not be negative", ErrOptions, o.HealthInterval, o.AffinitySlack)
	}
	p := &Pool{
		token:    o.Token,
		interval: o.HealthInterval,
		slack:    int64(o.AffinitySlack),
		log:      o.Logger,
		verifier: o.Attestation,
		keeps:    o.KeepsVerdict,
		changed:  make(chan struct{}),
		kick:     make(chan struct{}, 1),
	}
	p.set.Store(&members{})
	if p.interval == 0 {
		p.interval = DefaultHealthInterval
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	set := &members{}
	for _, e := range o.Endpoints {
		w, err := p.newWorker(set, e)
		if err != nil {
			p.set.Store(set)
			_ = p.Close()
			return nil, err
		}
		set = set.with(w)
	}
	p.set.Store(set)
	return p, nil
}

// newWorker builds the client of endpoint e, which must not clash with a worker of set.
func (p *Pool) newWorker(set *members, e Endpoint) (*Worker, error) {
	if e.ID == "" || e.Address == "" || len(e.Models) == 0 || set.has(e.ID) {
		return nil, fmt.Errorf("%w: endpoint %q at %q with models %v: want a unique id, an address and models", ErrOptions, e.ID, e.Address, e.Models)
	}
	var w *Worker // set below, before any call can be made on conn
	dialer := &workerDialer{}
	conn, err := grpc.NewClient(e.Address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(dialer.dial), grpc.WithNoProxy(),
		grpc.WithStreamInterceptor(checkIdentity(func() *Worker { return w })),
		grpc.WithPerRPCCredentials(bearer{token: p.token}),
		grpc.WithStatsHandler(telemetry.GRPCClient(arcertv1.Worker_Generate_FullMethodName)),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{
			BaseDelay: 100 * time.Millisecond, Multiplier: backoff.DefaultConfig.Multiplier,
			Jitter: backoff.DefaultConfig.Jitter, MaxDelay: reconnectMaxDelay,
		}, MinConnectTimeout: connectTimeout}),
		grpckeepalive.DialOption()) // a worker that went silent without a reset is dialled again
	if err != nil {
		return nil, fmt.Errorf("routing: client for worker %s at %s: %w", e.ID, e.Address, err)
	}
	w = &Worker{
		ID: e.ID, Region: e.Region, Pool: e.Pool, Address: e.Address, Role: e.Role, Elastic: e.Elastic,
		Models: append([]string(nil), e.Models...),
		Client: arcertv1.NewWorkerClient(conn),
		conn:   conn, dialer: dialer, pool: p, idHash: hashID(e.ID), stop: make(chan struct{}),
	}
	w.reach.Store(newReach())
	return w, nil
}

// Workers returns every worker, healthy or not, in configuration order.
func (p *Pool) Workers() []*Worker { return append([]*Worker(nil), p.set.Load().workers...) }

// Close closes every worker connection; in-flight calls fail.
func (p *Pool) Close() error {
	p.setMu.Lock()
	p.closed = true
	p.setMu.Unlock()
	var errs []error
	for _, w := range p.set.Load().workers {
		if err := w.conn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("routing: close %s: %w", w.ID, err))
		}
	}
	return errors.Join(errs...)
}

// hashID is the worker's half of its rendezvous weight, computed once.
func hashID(id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id)) // hash.Hash's Write never fails
	return h.Sum64()
}
