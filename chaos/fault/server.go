package fault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/collectors"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Server is toxiproxy's own server running in this process, with its API on a loopback port.
// The harness embeds it for runtimes it can reach on loopback; a containerized deployment runs
// the same server in a container instead.
type Server struct {
	api  *toxiproxy.ApiServer
	http *http.Server
	lis  net.Listener
	done chan struct{}
}

// serverReadHeaderTimeout bounds a slow client of the toxiproxy API.
const serverReadHeaderTimeout = 5 * time.Second

// StartServer starts toxiproxy's server with its API on addr (127.0.0.1:0 picks a free port).
// Toxiproxy logs through zerolog's global logger; it is silenced, since the engine reports
// faults itself.
func StartServer(addr string) (*Server, error) {
	zerolog.SetGlobalLevel(zerolog.Disabled)
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fault: toxiproxy api on %s: %w", addr, err)
	}
	metrics := toxiproxy.NewMetricsContainer(prometheus.NewRegistry())
	metrics.ProxyMetrics = collectors.NewProxyMetricCollectors() // Engine.Bytes reads them
	api := toxiproxy.NewServer(metrics, zerolog.Nop())
	s := &Server{api: api, lis: lis, done: make(chan struct{}),
		http: &http.Server{Handler: api.Routes(), ReadHeaderTimeout: serverReadHeaderTimeout}}
	go func() {
		defer close(s.done)
		if err := s.http.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // Serve fails only once the listener is closed by Close
		}
	}()
	return s, nil
}

// URL is the API's base URL, for New.
func (s *Server) URL() string { return "http://" + s.lis.Addr().String() }

// Close stops the API and every proxy.
func (s *Server) Close(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	<-s.done
	return errors.Join(err, s.api.Collection.Clear())
}
