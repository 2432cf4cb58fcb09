package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// healthTimeout bounds one check: well inside the few seconds a Compose or Kubernetes health
// check allows, so a hung part fails its check instead of timing the check out.
const healthTimeout = 3 * time.Second

// errUnhealthy marks a part that answered but is not serving.
var errUnhealthy = errors.New("unhealthy")

// healthCommand checks one part and exits 0 when it serves, 1 otherwise. The images are FROM
// scratch, with no shell or curl, so a container's health check runs the binary itself.
func healthCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "health URL",
		Short: "Exit 0 if the part at URL serves: http(s)://... must answer GET with 200; grpc://HOST:PORT[/SERVICE] must report SERVING",
		Example: "  aruntime health http://127.0.0.1:8080/healthz     # the router\n" +
			"  aruntime health grpc://127.0.0.1:9000            # a worker or the L2 cache",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), healthTimeout)
			defer cancel()
			if err := checkHealth(ctx, args[0]); err != nil {
				return fmt.Errorf("health %s: %w", args[0], err)
			}
			return nil
		},
	}
}

// checkHealth checks the part at target.
func checkHealth(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return fmt.Errorf("want http://HOST:PORT/PATH or grpc://HOST:PORT[/SERVICE]")
	}
	switch u.Scheme {
	case "http", "https":
		return checkHTTP(ctx, target)
	case "grpc":
		return checkGRPC(ctx, u.Host, strings.TrimPrefix(u.Path, "/"))
	default:
		return fmt.Errorf("scheme %q: want http, https or grpc", u.Scheme)
	}
}

// checkHTTP wants 200 from GET target.
func checkHTTP(ctx context.Context, target string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return fmt.Errorf("%w: %s %s", errUnhealthy, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// checkGRPC asks the standard gRPC health service for service ("" is the server as a whole).
func checkGRPC(ctx context.Context, addr, service string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return err
	}
	if st := resp.GetStatus(); st != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%w: %s", errUnhealthy, st)
	}
	return nil
}
