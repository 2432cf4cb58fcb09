package routing

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// mutedWorker is a worker whose silence the test sets: while muted, Health and Generate answer
// nothing until their caller gives up, as a worker cut off by dropped packets looks to the router.
// Its Generate never answers anyway, so a call stays in flight until something ends it.
type mutedWorker struct {
	arcertv1.UnimplementedWorkerServer
	muted    atomic.Bool
	refusing atomic.Bool // Health answers Internal: an answer, not silence
	draining atomic.Bool // Health answers healthy=false: out of rotation by choice
}

func (m *mutedWorker) Health(ctx context.Context, _ *arcertv1.HealthRequest) (*arcertv1.HealthResponse, error) {
	switch {
	case m.muted.Load():
		<-ctx.Done()
		return nil, ctx.Err()
	case m.refusing.Load():
		return nil, status.Error(codes.Internal, "injected failure")
	}
	return &arcertv1.HealthResponse{Worker: "muted", Healthy: !m.draining.Load(), MaxBatch: 4, Reason: "draining"}, nil
}

func (m *mutedWorker) Generate(_ *arcertv1.GenerateRequest, s grpc.ServerStreamingServer[arcertv1.GenerateResponse]) error {
	<-s.Context().Done()
	return s.Context().Err()
}

// startMuted serves a mutedWorker in a running pool and waits until it is healthy.
func startMuted(t *testing.T) (*mutedWorker, *Pool) {
	t.Helper()
	m := &mutedWorker{}
	addr, _ := serveOn(t, func(g *grpc.Server) { arcertv1.RegisterWorkerServer(g, m) }, nil)
	p := newPool(t, Options{Endpoints: []Endpoint{{ID: "muted", Address: addr, Models: []string{"m"}}}})
	run(t, p)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if err := p.WaitHealthy(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return m, p
}

// hang starts a Generate on the leased worker bound by Call and returns its error when it ends.
func hang(t *testing.T, l *Lease) <-chan error {
	t.Helper()
	ctx, release := l.Worker.Call(t.Context())
	done := make(chan error, 1)
	go func() {
		defer release()
		stream, err := l.Worker.Client.Generate(ctx, &arcertv1.GenerateRequest{Model: "m"})
		if err == nil {
			_, err = stream.Recv()
		}
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		done <- err
	}()
	return done
}

// TestSilentWorkerCallsAreCut: a call hung on a worker that stops answering its polls ends once
// the poller declares the worker down (3 silent polls of 500 ms), with ErrUnreachable as its
// cause, rather than at its own deadline; a call begun while the worker is down ends at once; and
// once the worker answers again, new calls are left alone.
func TestSilentWorkerCallsAreCut(t *testing.T) {
	m, p := startMuted(t)
	l, err := p.Pick("m", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Done()
	done := hang(t, l)
	time.Sleep(100 * time.Millisecond) // the call is on the wire
	started := time.Now()
	m.muted.Store(true)
	bound := unhealthyAfter*minHealthTimeout + 2*time.Second
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("the hung call ended with %v, want ErrUnreachable", err)
		}
		if l.Worker.Healthy() {
			t.Fatal("the call was cut while its worker is still in rotation")
		}
		t.Logf("hung call cut %v after the worker fell silent", time.Since(started).Round(time.Millisecond))
	case <-time.After(bound):
		t.Fatalf("a call to a silent worker still hangs %v after it fell silent", bound)
	}

	select {
	case err := <-hang(t, l):
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("a call begun on a worker already down ended with %v, want ErrUnreachable", err)
		}
	case <-time.After(time.Second):
		t.Fatal("a call begun on a worker already down was not cut at once")
	}

	m.muted.Store(false)
	waitFor(t, "the worker back in rotation", l.Worker.Healthy)
	expectUncut(t, hang(t, l))
}

// TestAnsweringWorkerCallsAreKept: a worker out of rotation because it answers its polls with an
// error, or says it is unhealthy (draining), is still there: its calls in flight are not cut.
func TestAnsweringWorkerCallsAreKept(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*mutedWorker)
	}{
		{"refusing", func(m *mutedWorker) { m.refusing.Store(true) }},
		{"draining", func(m *mutedWorker) { m.draining.Store(true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, p := startMuted(t)
			l, err := p.Pick("m", 0)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Done()
			done := hang(t, l)
			tc.set(m)
			waitFor(t, "the worker out of rotation", func() bool { return !l.Worker.Healthy() })
			expectUncut(t, done)
		})
	}
}

// expectUncut fails if the call ends within a few poll intervals, in which a wrongful cut would.
func expectUncut(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("a call to a worker that answers its polls ended: %v", err)
	case <-time.After(unhealthyAfter*minHealthTimeout + 500*time.Millisecond):
	}
}

func TestSilent(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{status.Error(codes.DeadlineExceeded, "poll timed out"), true},
		{status.Error(codes.Unavailable, "connection refused"), true},
		{status.Error(codes.Internal, "it answered"), false},
		{status.Error(codes.Unauthenticated, "it answered"), false},
		{nil, false},
	} {
		if got := silent(tc.err); got != tc.want {
			t.Errorf("silent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// BenchmarkPickCall is a request's routing cost: Pick, the call context Call binds to the worker,
// and both released, as router.generate does around every Generate.
func BenchmarkPickCall(b *testing.B) {
	p := offlinePool(b, 2, "a", "b")
	key := AffinityKey("acme", "shared system prompt")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		l, err := p.Pick("m", key)
		if err != nil {
			b.Fatal(err)
		}
		_, release := l.Worker.Call(ctx)
		release()
		l.Done()
	}
}
