package runtime

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/jetstream"
	"github.com/aruntime/arcert/reference/peers"
)

// TestRoutersSplitLimits: two routers on one external JetStream with router.limits: split each
// report two routers on /healthz and /metrics, and their slots sum to the declared capacity
// (none left over, none added); once one shuts down, the other is back to the whole capacity
// within the presence TTL.
func TestRoutersSplitLimits(t *testing.T) {
	nats, err := jetstream.Start("127.0.0.1:0", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nats.Shutdown)
	cfg := devConfig(t)
	cfg.Durable.NATSURL = nats.URL()
	cfg.Router.Limits = config.LimitsSplit
	cfg.Router.ID = "router-a"
	opts := durableOptions(t, cfg, workerIDs(cfg)...)
	opts.Evidence = true
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := Start(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })

	// The second router dials the first one's workers and runs no registry, cache or worker.
	second := *cfg
	second.Router.ID = "router-b"
	second.Workers = slices.Clone(cfg.Workers)
	for i, w := range second.Workers {
		second.Workers[i].Address = a.Topology().Workers[w.ID]
	}
	second.Artifacts.RegistryListen = ""
	b, err := Start(ctx, &second, Options{Router: true, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stopB := func() { _ = b.Shutdown(context.Background()) }
	t.Cleanup(stopB)

	within := peers.DefaultTTL + 5*time.Second
	var ha, hb map[string]int
	waitFor(t, within, "both routers report 2 routers, their slots summing to the declared capacity", func() bool {
		ha, hb = healthz(t, a), healthz(t, b)
		return ha["routers"] == 2 && hb["routers"] == 2 && ha["declared_capacity"] > 0 &&
			ha["capacity"]+hb["capacity"] == ha["declared_capacity"] && ha["declared_capacity"] == hb["declared_capacity"]
	})
	if d := ha["declared_capacity"]; ha["capacity"] < d/2 || hb["capacity"] < d/2 {
		t.Fatalf("uneven split of %d slots: %d and %d", d, ha["capacity"], hb["capacity"])
	}
	if m := get(t, a, "/metrics", ""); !strings.Contains(string(m.body), "aruntime_router_peers 2") {
		t.Errorf("/metrics of router-a shows no aruntime_router_peers 2")
	}

	stopB()
	waitFor(t, within, "router-a back to the whole capacity once router-b stopped", func() bool {
		ha = healthz(t, a)
		return ha["routers"] == 1 && ha["capacity"] == ha["declared_capacity"]
	})
}

// healthz reads a runtime's /healthz body.
func healthz(t *testing.T, rt *Runtime) map[string]int {
	t.Helper()
	r := get(t, rt, "/healthz", "")
	if r.status != http.StatusOK {
		return nil
	}
	var m map[string]int
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("/healthz: %v (%s)", err, r.body)
	}
	return m
}

// waitFor polls cond until it holds or within has passed.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
