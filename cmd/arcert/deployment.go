package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aruntime/arcert/chaos/compose"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/target"
)

// deploymentOpenTimeout bounds finding a Compose deployment's containers and networks.
const deploymentOpenTimeout = 30 * time.Second

// deploymentChaos is the chaos setup of a target that declares its deployment: with
// deployment.toxiproxy, an engine on that toxiproxy adopting the proxy every dependency names
// (the runtime dials those, so a proxy the harness made would stand on no link); otherwise one
// of the harness's own, as for any remote target. With deployment.compose, the Compose project's
// containers are the parts node faults act on.
func deploymentChaos(ctx context.Context, t *target.Target, stderr io.Writer) (*chaosSetup, func(), error) {
	dep := t.Deployment
	if dep.Toxiproxy == "" {
		setup, stop, err := targetChaos(&target.Target{Dependencies: t.Dependencies}, stderr)
		if err != nil {
			return nil, nil, err
		}
		return withCompose(ctx, t, stderr, setup, stop)
	}
	e := fault.New(dep.Toxiproxy)
	for i, d := range t.Dependencies {
		if _, err := e.Adopt(d.Link, d.Proxy); err != nil {
			return nil, nil, fmt.Errorf("arcert: dependencies[%d]: %w", i, err)
		}
		fmt.Fprintf(stderr, "arcert: adopted proxy %s on %s %s: %s → %s\n", d.Proxy, d.Role, d.Name, d.Dial, d.Upstream)
	}
	// Proxies the harness finds faulted would fail the residue check at the end whatever the
	// run did: refuse them now (Adopt does), and say that the deployment's proxies are clean.
	if err := e.Residue(); err != nil {
		return nil, nil, fmt.Errorf("arcert: the deployment's toxiproxy at %s before any fault: %w", dep.Toxiproxy, err)
	}
	return withCompose(ctx, t, stderr, &chaosSetup{Engine: e}, func() {})
}

// withCompose adds the Compose project's parts to setup, when the target names the project.
func withCompose(ctx context.Context, t *target.Target, stderr io.Writer, setup *chaosSetup, stop func()) (*chaosSetup, func(), error) {
	dep := t.Deployment
	if dep.Compose == nil {
		return setup, stop, nil
	}
	ctx, cancel := context.WithTimeout(ctx, deploymentOpenTimeout)
	defer cancel()
	o := compose.Options{Project: dep.Compose.Project, Parts: dep.Parts, Routers: t.Endpoints.HTTPURLs(), Log: prefixed{stderr}}
	if dep.StateStore != nil {
		o.Monitor = dep.StateStore.Monitor
	}
	d, err := compose.Open(ctx, o)
	if err != nil {
		stop()
		return nil, nil, err
	}
	if err := d.Residue(ctx); err != nil {
		_ = d.Close()
		stop()
		return nil, nil, fmt.Errorf("arcert: Compose project %s before any fault: %w", dep.Compose.Project, err)
	}
	n := 0
	for _, parts := range dep.Parts {
		n += len(parts)
	}
	fmt.Fprintf(stderr, "arcert: Compose project %s: %d parts found, all running\n", dep.Compose.Project, n)
	setup.Nodes = d
	return setup, func() { _ = d.Close(); stop() }, nil
}
