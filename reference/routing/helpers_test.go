package routing

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/config"
	refworker "github.com/aruntime/arcert/reference/worker"
)

// testTimeout bounds every wait; generous for -race, never waited on success.
const testTimeout = 10 * time.Second

// testInterval is the health poll interval in tests: short so that health
// changes are seen quickly, long enough not to spin under -race.
const testInterval = 20 * time.Millisecond

const testToken = "worker-secret"

var discard = slog.New(slog.DiscardHandler)

// startWorker runs a real reference worker on loopback until stop or the
// end of the test.
func startWorker(t *testing.T, id string, maxBatch int, models ...string) (addr string, stop func()) {
	t.Helper()
	var ms []config.Model
	for _, m := range models {
		ms = append(ms, config.Model{Name: m, ArtifactDigest: "sha256:" + m + "-" + id, WeightsBytes: 1 << 20, KVBytesPerToken: 1024})
	}
	srv, err := refworker.New(refworker.Options{
		Worker: config.Worker{
			ID: id, Region: "eu-west", Pool: "gpu", Models: models,
			Device: config.DeviceSpec{Name: "sim", MemoryBytes: 1 << 30, Utilization: 0.9},
			Engine: config.EngineSpec{MaxBatch: maxBatch, MaxWaiting: 8, BlockSize: 4, PrefixCacheBlocks: 64},
		},
		Models: ms, Token: testToken, Logger: discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, srv.Register, func(ctx context.Context, lis net.Listener) error { return srv.Serve(ctx, lis) })
}

// fakeWorker is a Worker service whose health the test sets, for failures a
// real worker does not produce on demand.
type fakeWorker struct {
	arcertv1.UnimplementedWorkerServer
	healthy  atomic.Bool
	fail     atomic.Bool // Health returns Internal
	maxBatch atomic.Int64
	auth     atomic.Value // string: the last authorization metadata seen
}

func (f *fakeWorker) Health(ctx context.Context, _ *arcertv1.HealthRequest) (*arcertv1.HealthResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.auth.Store(md.Get("authorization"))
	if f.fail.Load() {
		return nil, status.Error(codes.Internal, "injected failure")
	}
	return &arcertv1.HealthResponse{Worker: "fake", Healthy: f.healthy.Load(), MaxBatch: f.maxBatch.Load(), Reason: "test says so"}, nil
}

// startFake serves f on loopback until the test ends.
func startFake(t *testing.T, f *fakeWorker) string {
	t.Helper()
	addr, _ := serveOn(t, func(g *grpc.Server) { arcertv1.RegisterWorkerServer(g, f) }, nil)
	return addr
}

// serveOn listens on loopback and serves with serve, or with a plain
// grpc.Server carrying register when serve is nil.
func serveOn(t *testing.T, register func(*grpc.Server), serve func(context.Context, net.Listener) error) (string, func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if serve == nil {
		serve = func(ctx context.Context, lis net.Listener) error {
			g := grpc.NewServer()
			register(g)
			context.AfterFunc(ctx, g.Stop)
			return g.Serve(lis)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, lis) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(testTimeout):
				t.Error("server did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return lis.Addr().String(), stop
}

// newPool builds a pool closed at the end of the test.
func newPool(t *testing.T, o Options) *Pool {
	t.Helper()
	if o.Token == "" {
		o.Token = testToken
	}
	if o.HealthInterval == 0 {
		o.HealthInterval = testInterval
	}
	o.Logger = discard
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// run runs p until the test ends and checks that Run returns.
func run(t *testing.T, p *Pool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(testTimeout):
			t.Error("Run did not return after cancel")
		}
	})
}

// runHealthy runs p until the test ends and waits until n of its workers are healthy.
func runHealthy(t *testing.T, p *Pool, n int) {
	t.Helper()
	run(t, p)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if err := p.WaitHealthy(ctx, n); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds, failing the test after testTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, testTimeout, what, cond)
}

// waitWithin polls cond until it holds, failing the test after bound.
func waitWithin(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", bound, what)
		}
	}
}

// offlinePool is a pool whose workers are never called; tests set their
// health directly to exercise Pick without a network.
func offlinePool(t testing.TB, slack int, ids ...string) *Pool {
	t.Helper()
	var eps []Endpoint
	for _, id := range ids {
		eps = append(eps, Endpoint{ID: id, Address: "127.0.0.1:1", Models: []string{"m"}})
	}
	eps = append(eps, Endpoint{ID: "other", Address: "127.0.0.1:1", Models: []string{"other-model"}})
	p, err := New(Options{Endpoints: eps, Token: testToken, AffinitySlack: slack, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	for _, w := range p.Workers() {
		setHealthy(w, true)
	}
	return p
}

// setHealthy records a poll result as Run would.
func setHealthy(w *Worker, healthy bool) {
	w.observe(&arcertv1.HealthResponse{Worker: w.ID, Healthy: healthy, MaxBatch: 4}, nil, w.marks.Load(), nil)
}

var errInjected = errors.New("injected")
