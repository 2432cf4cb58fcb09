package worker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/grpckeepalive"
	"github.com/aruntime/arcert/reference/telemetry"
)

// Register registers the Worker service on g, for callers that own the
// grpc.Server; they must also call Run. Authentication is enforced inside
// every method, so it holds on any server the service is registered on.
func (s *Server) Register(g *grpc.Server) {
	arcertv1.RegisterWorkerServer(g, s)
}

// Run runs the engine's scheduling loop until ctx ends and returns nil then.
// Health reports the worker healthy only while Run is running. A Server
// runs once: a second call returns ErrRunning.
func (s *Server) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return ErrRunning
	}
	s.live.Store(true)
	defer s.live.Store(false)
	defer func() {
		if err := s.closeDev(); err != nil {
			s.log.Warn("closing the device", "err", err)
		}
	}()
	// The device watchers live as long as the engine.
	wctx, stopWatch := context.WithCancel(ctx)
	var watchers sync.WaitGroup
	watchers.Go(func() { s.watchDevice(wctx) })
	watchers.Go(func() { s.watchPressure(wctx, s.poll) })
	defer func() { stopWatch(); watchers.Wait() }()
	s.log.Info("engine started", "max_batch", s.maxBatch, "kv_capacity_tokens", s.eng.Stats().KVCapacityTokens)
	if s.tiers != nil {
		// Demotion lives as long as the engine whose evictions it drains.
		dctx, stop := context.WithCancel(ctx)
		demoted := make(chan struct{})
		go func() {
			defer close(demoted)
			s.tiers.demote(dctx)
		}()
		defer func() {
			stop()
			<-demoted
		}()
	}
	err := s.eng.Run(ctx)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return fmt.Errorf("worker %s: engine: %w", s.id, err)
}

// Serve runs the engine and a gRPC server on lis until ctx ends. It then
// reports unhealthy, lets in-flight streams finish for up to the drain
// timeout (the engine keeps running meanwhile), cuts what is left, and stops
// the engine. It returns nil on such a clean shutdown and an error when the
// listener or the engine fails first. Serve closes lis.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	if s.started.Load() {
		_ = lis.Close()
		return ErrRunning
	}
	g := grpc.NewServer(grpc.StatsHandler(telemetry.GRPCServer(arcertv1.Worker_Generate_FullMethodName)), grpckeepalive.ServerOption())
	s.Register(g)
	// The standard health service answers probes (Kubernetes, Envoy, grpcurl) without the
	// worker's token: SERVING while the worker serves, NOT_SERVING from the moment it drains.
	hs := health.NewServer()
	hs.SetServingStatus(arcertv1.Worker_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(g, hs)
	reflection.Register(g)

	// The engine outlives ctx on purpose: draining streams still need it.
	engCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEngine()
	engDone := make(chan error, 1)
	go func() { engDone <- s.Run(engCtx) }()
	srvDone := make(chan error, 1)
	go func() { srvDone <- g.Serve(lis) }()
	s.log.Info("serving", "addr", lis.Addr().String())

	var err error
	select {
	case <-ctx.Done():
		s.stopping.Store(true)
		hs.Shutdown()
		s.gracefulStop(g)
		err = <-srvDone
	case err = <-srvDone:
		if err != nil {
			err = fmt.Errorf("worker %s: grpc serve: %w", s.id, err)
		}
		g.Stop()
	case err = <-engDone:
		g.Stop()
		<-srvDone
		return err
	}
	stopEngine()
	if engErr := <-engDone; err == nil {
		err = engErr
	}
	s.log.Info("stopped", "err", err)
	return err
}

// gracefulStop waits for in-flight RPCs for at most the drain timeout, then
// cuts them; it returns only after g has fully stopped.
func (s *Server) gracefulStop(g *grpc.Server) {
	done := make(chan struct{})
	go func() {
		g.GracefulStop()
		close(done)
	}()
	t := time.NewTimer(s.drain)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.log.Warn("drain timeout; cutting in-flight streams", "drain_timeout", s.drain)
		g.Stop()
		<-done
	}
}
