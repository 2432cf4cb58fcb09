package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/target"
)

// TestDeploymentChaosAdoptsTheDeploymentsProxies: a target with deployment.toxiproxy gets an
// engine on that server holding the proxies it names, made by no one but the deployment, and
// a proxy that is not there fails the setup naming its dependency.
func TestDeploymentChaosAdoptsTheDeploymentsProxies(t *testing.T) {
	srv, err := fault.StartServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	c := toxiclient.NewClient(srv.URL())
	for _, p := range [][2]string{{"region-worker-a", "worker-a:9000"}, {"queue-nats-1", "nats-1:4222"}} {
		if _, err := c.CreateProxy(p[0], "127.0.0.1:0", p[1]); err != nil {
			t.Fatal(err)
		}
	}
	tg := &target.Target{
		Deployment: &target.Deployment{Toxiproxy: srv.URL()},
		Dependencies: []target.Dependency{
			{Link: link.Link{Role: link.RoleRegion, Name: "eu-west", Part: "worker-a", Dial: "toxiproxy:7001", Upstream: "worker-a:9000"}, Proxy: "region-worker-a"},
			{Link: link.Link{Role: link.RoleQueue, Name: "jetstream", Part: "nats-1", Dial: "toxiproxy:7040", Upstream: "nats-1:4222"}, Proxy: "queue-nats-1"},
		},
	}
	var stderr bytes.Buffer
	setup, stop, err := targetChaos(tg, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if links := setup.Engine.Links(); len(links) != 2 || links[1].Proxy != "queue-nats-1" || setup.Nodes != nil {
		t.Fatalf("links %+v, nodes %v", links, setup.Nodes)
	}
	if !strings.Contains(stderr.String(), "adopted proxy queue-nats-1 on queue jetstream: toxiproxy:7040 → nats-1:4222") {
		t.Fatalf("stderr: %s", stderr.String())
	}
	tg.Dependencies[1].Proxy = "queue-nats-9"
	if _, _, err := targetChaos(tg, &stderr); !errors.Is(err, fault.ErrAdopt) || !strings.Contains(err.Error(), "dependencies[1]") {
		t.Fatalf("a missing proxy: %v; want ErrAdopt naming dependencies[1]", err)
	}
}
