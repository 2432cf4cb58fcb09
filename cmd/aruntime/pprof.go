package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// Profiling: `--pprof-listen 127.0.0.1:6060` serves Go's net/http/pprof (CPU, heap, allocation,
// mutex and goroutine profiles) on a listener of its own, so the router's hot path can be
// profiled under real load. It is off by default and accepts only a loopback address: profiles
// show request handling in detail and a CPU profile costs the process, so only someone on the
// host (an operator) may take one. The routes live on a private mux, never on the runtime's
// public HTTP server.

// errPprofNotLoopback refuses a profiling listener reachable from other hosts.
var errPprofNotLoopback = errors.New("--pprof-listen must be a loopback address (127.0.0.1:PORT or [::1]:PORT)")

// startPprof serves the profiles on addr until ctx ends; "" serves nothing. It returns the
// address really bound (addr may use port 0).
func startPprof(ctx context.Context, addr string, log *slog.Logger) (string, error) {
	if addr == "" {
		return "", nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--pprof-listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("%w, not %q", errPprofNotLoopback, addr)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("--pprof-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("pprof listener stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Info("serving Go profiles (loopback only)", "addr", lis.Addr().String())
	return lis.Addr().String(), nil
}
