package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/grpckeepalive"
)

// DefaultDrainTimeout is how long Serve lets in-flight calls finish after
// its context ends, when ServerOptions.DrainTimeout is zero. Every call is a
// short unary one that only takes the store's lock, so this is generous.
const DefaultDrainTimeout = 2 * time.Second

// ServerOptions configure the gRPC front of a Store.
type ServerOptions struct {
	// Token is the worker credential: every call must carry metadata
	// `authorization: Bearer <Token>` or is refused as Unauthenticated.
	Token string
	// DrainTimeout bounds graceful shutdown in Serve; zero means
	// DefaultDrainTimeout.
	DrainTimeout time.Duration
	Logger       *slog.Logger // nil means slog.Default()
}

// Server implements arcertv1.CacheServer over a Store. Create it with
// NewServer, then Serve, or Register it on a grpc.Server you own.
type Server struct {
	arcertv1.UnimplementedCacheServer

	store       *Store
	tokenDigest [32]byte
	drain       time.Duration
	log         *slog.Logger
}

var _ arcertv1.CacheServer = (*Server)(nil)

// NewServer returns the gRPC front of st; the store stays the caller's, so
// tests and an operator can read it directly.
func NewServer(st *Store, o ServerOptions) (*Server, error) {
	switch {
	case st == nil:
		return nil, fmt.Errorf("%w: no store", ErrOptions)
	case o.Token == "":
		return nil, fmt.Errorf("%w: Token is empty; the cache tier never runs unauthenticated", ErrOptions)
	}
	s := &Server{store: st, tokenDigest: digestToken(o.Token), drain: o.DrainTimeout, log: o.Logger}
	if s.drain <= 0 {
		s.drain = DefaultDrainTimeout
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// Register registers the Cache service on g. Authentication is enforced
// inside every method, so it holds on any server the service is on.
func (s *Server) Register(g *grpc.Server) { arcertv1.RegisterCacheServer(g, s) }

// Serve serves the Cache service on lis until ctx ends, then lets in-flight
// calls finish for up to the drain timeout and cuts what is left. It returns
// nil on such a clean shutdown and an error when the listener fails first.
// Serve closes lis.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	g := grpc.NewServer(grpckeepalive.ServerOption())
	s.Register(g)
	// The standard health service answers probes without the token: SERVING while the cache
	// serves, NOT_SERVING from the moment it drains.
	hs := health.NewServer()
	hs.SetServingStatus(arcertv1.Cache_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(g, hs)
	reflection.Register(g)
	done := make(chan error, 1)
	go func() { done <- g.Serve(lis) }()
	s.log.Info("cache serving", "addr", lis.Addr().String(), "global_budget_bytes", s.store.budgets.Global)
	select {
	case err := <-done:
		g.Stop()
		if err != nil {
			err = fmt.Errorf("cache: grpc serve: %w", err)
		}
		return err
	case <-ctx.Done():
	}
	hs.Shutdown()
	stopped := make(chan struct{})
	go func() {
		g.GracefulStop()
		close(stopped)
	}()
	t := time.NewTimer(s.drain)
	defer t.Stop()
	select {
	case <-stopped:
	case <-t.C:
		s.log.Warn("cache drain timeout; cutting in-flight calls", "drain_timeout", s.drain)
		g.Stop()
		<-stopped
	}
	return <-done
}

// Match implements arcertv1.CacheServer.
func (s *Server) Match(ctx context.Context, req *arcertv1.CacheMatchRequest) (*arcertv1.CacheMatchResponse, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	keys, err := keysFromWire(req.GetKeys())
	if err != nil {
		return nil, statusOf(err)
	}
	n, err := s.store.Match(req.GetTenant(), keys)
	if err != nil {
		return nil, statusOf(err)
	}
	return &arcertv1.CacheMatchResponse{Matched: int64(n)}, nil
}

// Put implements arcertv1.CacheServer.
func (s *Server) Put(ctx context.Context, req *arcertv1.CachePutRequest) (*arcertv1.CachePutResponse, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	keys, err := keysFromWire(req.GetKeys())
	if err != nil {
		return nil, statusOf(err)
	}
	if err := s.store.Put(req.GetTenant(), keys, req.GetBlockBytes()); err != nil {
		return nil, statusOf(err)
	}
	return &arcertv1.CachePutResponse{}, nil
}

// Stats implements arcertv1.CacheServer.
func (s *Server) Stats(ctx context.Context, _ *arcertv1.CacheStatsRequest) (*arcertv1.CacheStatsResponse, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	return statsToWire(s.store.Stats()), nil
}

// statusOf maps the store's sentinels to gRPC codes: every one of them is
// the caller's mistake.
func statusOf(err error) error {
	if errors.Is(err, ErrNoTenant) || errors.Is(err, ErrInvalid) {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}
