package worker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/config"
)

// testTimeout bounds every wait; generous for -race, never waited on success.
const testTimeout = 10 * time.Second

// testToken is the worker credential the test workers accept.
const testToken = "worker-secret"

// Memory sizes for the simulated test device: weights are a quarter of it,
// so the rest leaves hundreds of thousands of KV tokens.
const (
	gib          = 1 << 30
	testKVPerTok = 1024
)

func testModel(name string) config.Model {
	return config.Model{
		Name:            name,
		ArtifactDigest:  "sha256:" + strings.Repeat(name[:1], 64),
		WeightsBytes:    gib / 4,
		KVBytesPerToken: testKVPerTok,
	}
}

// testOptions is a zero-cost worker serving models "m1" and "m2"; tests
// override what they exercise.
func testOptions(id string) Options {
	return Options{
		Worker: config.Worker{
			ID: id, Region: "eu-west", Pool: "gpu-a",
			Models: []string{"m1", "m2"},
			Device: config.DeviceSpec{Name: "SimGPU-80", MemoryBytes: 4 * gib, Utilization: 0.9},
			Engine: config.EngineSpec{MaxBatch: 4, MaxWaiting: 16, BlockSize: 4, PrefixCacheBlocks: 4096},
		},
		Models:  []config.Model{testModel("m1"), testModel("m2")},
		Runtime: config.Runtime{Version: "rt-1.2.3", PolicyVersion: "pol-7", RoutingVersion: "route-3"},
		Token:   testToken,
		Index:   3,
		Logger:  slog.New(slog.DiscardHandler),
	}
}

// served is a running worker and a way to stop it.
type served struct {
	srv    *Server
	addr   string
	client arcertv1.WorkerClient
	// stop cancels Serve and returns its result; safe to call twice.
	stop func() error
}

// serve starts a worker on a loopback port until the test ends.
func serve(t *testing.T, o Options) *served {
	t.Helper()
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, lis) }()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-errc:
			case <-time.After(testTimeout):
				serveErr = errors.New("Serve did not return after cancel")
			}
		})
		return serveErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	s := &served{srv: srv, addr: lis.Addr().String(), stop: stop}
	s.client = dial(t, s.addr)
	waitFor(t, "worker healthy", func() bool {
		h, err := s.client.Health(authed(t.Context(), testToken), &arcertv1.HealthRequest{})
		return err == nil && h.GetHealthy()
	})
	return s
}

// dial returns a client for addr, closed when the test ends.
func dial(t *testing.T, addr string) arcertv1.WorkerClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return arcertv1.NewWorkerClient(cc)
}

// authed attaches a bearer token to ctx, as the router does.
func authed(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// request is a valid request for tenant on model m1.
func request(tenant, prompt string, maxTokens int64) *arcertv1.GenerateRequest {
	return &arcertv1.GenerateRequest{
		RequestId: "req-" + tenant,
		Tenant:    &arcertv1.TenantContext{Tenant: tenant, Application: "app", User: "u"},
		Model:     "m1",
		Prompt:    prompt,
		MaxTokens: maxTokens,
		Seed:      42,
	}
}

// result is a whole Generate stream.
type result struct {
	texts []string
	final *arcertv1.GenerateResponse
}

func (r result) text() string { return strings.Join(r.texts, "") }

// generate runs req to the end of its stream and returns the token texts
// and the final message, or the stream's error.
func generate(ctx context.Context, c arcertv1.WorkerClient, req *arcertv1.GenerateRequest) (result, error) {
	ctx, cancel := context.WithTimeout(authed(ctx, testToken), testTimeout)
	defer cancel()
	stream, err := c.Generate(ctx, req)
	if err != nil {
		return result{}, err
	}
	var r result
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return r, nil
		}
		if err != nil {
			return r, err
		}
		if msg.GetUsage() != nil {
			if r.final != nil {
				return r, errors.New("two final messages")
			}
			r.final = msg
			continue
		}
		if r.final != nil {
			return r, errors.New("token after the final message")
		}
		r.texts = append(r.texts, msg.GetText())
	}
}

// mustGenerate is generate that fails the test on error.
func mustGenerate(t *testing.T, c arcertv1.WorkerClient, req *arcertv1.GenerateRequest) result {
	t.Helper()
	r, err := generate(t.Context(), c, req)
	if err != nil {
		t.Fatalf("Generate(%s): %v", req.GetTenant().GetTenant(), err)
	}
	if r.final == nil {
		t.Fatal("stream ended without a final message")
	}
	return r
}

// waitFor polls cond until it holds, failing the test after testTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
