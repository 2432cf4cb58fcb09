package runtime

import (
	"context"
	"fmt"
	"slices"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/reference/cache"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/grpckeepalive"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// startCache serves the shared L2 tier on its configured listen address and records the address
// workers dial.
func (rt *Runtime) startCache(ctx context.Context) error {
	c := rt.cfg.Cache
	store, err := cache.NewStore(cache.Budgets{Global: c.GlobalBytes, Tenant: c.TenantBytes})
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	srv, err := cache.NewServer(store, cache.ServerOptions{Token: rt.cfg.Router.WorkerToken, Logger: rt.log.With("part", "cache")})
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	lis, err := listen("cache", c.Listen)
	if err != nil {
		return err
	}
	addr := lis.Addr().String()
	rt.topology.Cache = addr
	if rt.cfg.Cache.Address == "" {
		rt.cfg.Cache.Address = addr
	}
	rt.goPart("cache", func() error { return srv.Serve(ctx, lis) })
	rt.log.Info("cache tier listening", "addr", addr, "global_bytes", c.GlobalBytes, "tenant_bytes", c.TenantBytes)
	return nil
}

// l2For returns worker w's client of the shared tier, or nil when there is no tier to dial.
// The connection closes when ctx ends.
func (rt *Runtime) l2For(ctx context.Context, w config.Worker, models []config.Model) (*cache.Client, error) {
	addr := rt.cfg.Cache.Address
	if addr == "" || w.Engine.PrefixCacheBlocks == 0 {
		return nil, nil
	}
	var kv uint64
	for _, m := range models {
		kv = max(kv, m.KVBytesPerToken)
	}
	addr, err := rt.interpose(ctx, Link{Role: link.RoleCache, Name: "l2", Upstream: addr})
	if err != nil {
		return nil, err
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpckeepalive.DialOption())
	if err != nil {
		return nil, fmt.Errorf("cache client: %w", err)
	}
	go func() { <-ctx.Done(); _ = cc.Close() }()
	rt.workersMu.Lock()
	if !slices.Contains(rt.topology.Dials["worker "+w.ID], addr) {
		rt.topology.Dials["worker "+w.ID] = append(rt.topology.Dials["worker "+w.ID], addr)
	}
	rt.workersMu.Unlock()
	return cache.NewClient(cc, cache.ClientOptions{Token: rt.cfg.Router.WorkerToken, BlockBytes: uint64(w.Engine.BlockSize) * kv})
}
