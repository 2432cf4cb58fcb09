package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/containers"
	"github.com/aruntime/arcert/conformance/target"
	"github.com/aruntime/arcert/deploy/images"
	"github.com/aruntime/arcert/fixtures/targets"
)

// containersCloseTimeout bounds removing the deployment's containers and network.
const containersCloseTimeout = time.Minute

// startContainers deploys the reference runtime one container per role (chaos/containers) and
// returns its target, fixtures/targets/containers.yaml with the router's published endpoints;
// the fault engine on its toxiproxy and its parts as the chaos setup; and a function that removes
// it all. Images are built first (quick when nothing changed). Without a Docker engine the error
// wraps containers.ErrUnavailable, whose message is the reason, for a NOT_SUPPORTED result.
func startContainers(ctx context.Context, stderr io.Writer) (t *target.Target, setup *chaosSetup, stop func(), err error) {
	if err := containers.Available(ctx); err != nil {
		return nil, nil, nil, err
	}
	t, err = target.Parse(targets.ContainersName, targets.ContainersYAML)
	if err != nil {
		return nil, nil, nil, err
	}
	start := time.Now()
	fmt.Fprintln(stderr, "arcert: building images…")
	if err := images.Build(ctx, images.Options{Log: prefixed{stderr}}); err != nil {
		return nil, nil, nil, err
	}
	fmt.Fprintf(stderr, "arcert: images ready (%s); starting the containers…\n", since(start))
	start = time.Now()
	d, err := containers.Deploy(ctx, containers.Options{Log: prefixed{stderr}})
	if err != nil {
		return nil, nil, nil, err
	}
	n := 0
	for _, role := range []string{containers.RoleDurable, containers.RoleCache, containers.RoleProvider, containers.RoleWorker, containers.RoleRouter} {
		n += len(d.Parts(role))
	}
	fmt.Fprintf(stderr, "arcert: %d containers and toxiproxy up (%s), %d links proxied; router at %s\n",
		n, since(start), len(d.Engine().Links()), d.HTTPURL())
	// The deployment runs one router, published on these host ports: a further router the
	// fixture listed would name an address nothing listens on, so there are none.
	t.Endpoints.HTTP, t.Endpoints.GRPC, t.Endpoints.More = d.HTTPURL(), d.GRPCAddr(), nil
	for i, dep := range t.Dependencies {
		if dep.Role == link.RoleProvider {
			if t.Dependencies[i].Observe, err = d.ObserveURL(ctx); err != nil {
				_ = d.Close(context.WithoutCancel(ctx))
				return nil, nil, nil, err
			}
		}
	}
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), containersCloseTimeout)
		defer cancel()
		if err := d.Close(ctx); err != nil {
			fmt.Fprintf(stderr, "arcert: removing the containers: %v\n", err)
		}
	}
	return t, &chaosSetup{Engine: d.Engine(), Nodes: d}, stop, nil
}

// since rounds the time since start for progress lines.
func since(start time.Time) time.Duration { return time.Since(start).Round(100 * time.Millisecond) }

// prefixed writes each progress line of a library as an arcert line.
type prefixed struct{ w io.Writer }

func (p prefixed) Write(b []byte) (int, error) {
	for line := range strings.Lines(string(b)) {
		if _, err := io.WriteString(p.w, "arcert: "+line); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}
