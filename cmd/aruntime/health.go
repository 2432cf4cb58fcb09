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

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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
		Short: "Exit 0 if the part at URL serves: http(s)://... must answer GET with 200; grpc://HOST:PORT[/SERVICE] must report SERVING; nats://HOST:PORT must answer JetStream account info",
		Example: "  aruntime health http://127.0.0.1:8080/healthz     # the router\n" +
			"  aruntime health grpc://127.0.0.1:9000            # a worker or the L2 cache\n" +
			"  aruntime health nats://127.0.0.1:4222            # a JetStream server whose cluster has a leader",
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
	u, err := parseTarget(target)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "grpc":
		return checkGRPC(ctx, u.Host, strings.TrimPrefix(u.Path, "/"))
	case "nats":
		return checkNATS(ctx, target)
	}
	return checkHTTP(ctx, target)
}

// parseTarget parses a health-check URL: http(s)://HOST:PORT/PATH, grpc://HOST:PORT[/SERVICE] or
// nats://HOST:PORT. A NATS target may list several servers, comma-separated, as a NATS client
// does: any one of them answering is enough; the first is returned.
func parseTarget(target string) (*url.URL, error) {
	if rest, ok := strings.CutPrefix(target, "nats://"); ok && strings.Contains(rest, ",") {
		var first *url.URL
		for _, one := range strings.Split(target, ",") {
			u, err := parseTarget(strings.TrimSpace(one))
			if err != nil || u.Scheme != "nats" {
				return nil, fmt.Errorf("%q in a NATS server list: want nats://HOST:PORT", one)
			}
			if first == nil {
				first = u
			}
		}
		return first, nil
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("want http://HOST:PORT/PATH, grpc://HOST:PORT[/SERVICE] or nats://HOST:PORT")
	}
	switch u.Scheme {
	case "http", "https", "grpc", "nats":
		return u, nil
	default:
		return nil, fmt.Errorf("scheme %q: want http, https, grpc or nats", u.Scheme)
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

// checkNATS connects to the NATS server at target and asks JetStream for the account's info,
// which a clustered server answers only once its cluster has elected a meta leader: a server
// that accepts connections before then would take a role's stream and bucket set-up and fail it.
func checkNATS(ctx context.Context, target string) error {
	// Connect tries each server of a list in turn, each for the dial timeout, and does not watch
	// ctx: the time left is shared out among the servers.
	servers := strings.Split(strings.ReplaceAll(target, " ", ""), ",")
	dial := healthTimeout
	if deadline, ok := ctx.Deadline(); ok {
		dial = time.Until(deadline)
	}
	dial = max(dial/time.Duration(len(servers)), 50*time.Millisecond)
	nc, err := nats.Connect(strings.Join(servers, ","), nats.Name("aruntime-health"), nats.Timeout(dial), nats.MaxReconnects(0))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("%w: jetstream: %w", errUnhealthy, err)
	}
	return nil
}
