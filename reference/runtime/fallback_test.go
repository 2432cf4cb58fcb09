package runtime

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	standin "github.com/aruntime/arcert/fixtures/provider"
	"github.com/aruntime/arcert/internal/testrelay"
	"github.com/aruntime/arcert/reference/config"
)

const (
	initechKey  = "dev-initech-key"
	providerKey = "dev-hosted-provider-key"
)

// fallbackRig is the dev configuration split in two: every worker in one runtime, the router in
// another that dials each worker through a testrelay.Relay, so a test can take a whole region away, and
// the stand-in hosted provider, started the way `aruntime up` starts it.
type fallbackRig struct {
	rt      *Runtime
	links   map[string]*testrelay.Relay
	standIn *standin.Provider
}

func startFallbackRig(t *testing.T, cfg *config.Config) *fallbackRig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	workers, err := Start(ctx, cfg, Options{Workers: workerIDs(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = workers.Shutdown(context.Background()) })
	rig := &fallbackRig{links: map[string]*testrelay.Relay{}}
	for i, w := range cfg.Workers {
		rig.links[w.ID] = testrelay.New(t, workers.Topology().Workers[w.ID])
		cfg.Workers[i].Address = rig.links[w.ID].Addr()
	}
	startStandIn := func(_ context.Context, p config.Provider) (string, func() error, error) {
		sp, err := standin.Start("127.0.0.1:0", p.Key)
		if err != nil {
			return "", nil, err
		}
		rig.standIn = sp
		return sp.URL(), sp.Close, nil
	}
	rig.rt, err = Start(ctx, cfg, Options{Router: true, StartProvider: startStandIn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rig.rt.Shutdown(context.Background()) })
	if rig.standIn == nil || rig.rt.Topology().Providers["hosted-stand-in"] != rig.standIn.URL() {
		t.Fatalf("the stand-in provider was not started for the embedded base_url: %+v", rig.rt.Topology().Providers)
	}
	return rig
}

// servedBy parses a response's ARuntime-Served-By.
func servedBy(t *testing.T, r response) outcome.ServedBy {
	t.Helper()
	sb, err := outcome.ParseServedBy(r.header.Get(outcome.HeaderServedBy))
	if err != nil {
		t.Fatal(err)
	}
	return sb
}

// TestFallbackFollowsTheTenantsPolicy walks one runtime down region by region. Each step depends
// on the one before, as an outage does: eu-west up (everyone served there), eu-west gone (globex
// rerouted to us-east, acme and initech refused), us-east gone too (globex served by the hosted
// provider, which never sees acme), and the provider failing (globex fails, nobody is moved
// further than its policy allows).
func TestFallbackFollowsTheTenantsPolicy(t *testing.T) {
	rig := startFallbackRig(t, devConfig(t))
	rt := rig.rt
	ask := func(key string) response {
		return post(t, rt, "/v1/chat/completions", key, chat("where is this served?", 3), nil)
	}

	for _, key := range []string{acmeKey, globexKey, acmeKey, globexKey} {
		r := ask(key)
		expectOutcome(t, r, http.StatusOK, "completed", "none")
		if sb := servedBy(t, r); sb.Region != "eu-west" || sb.Provider != config.LocalProvider {
			t.Fatalf("served by %v, want the primary region eu-west", sb)
		}
	}

	rig.links["worker-a"].Cut()
	rig.links["worker-b"].Cut()
	r := ask(globexKey)
	expectOutcome(t, r, http.StatusOK, "rerouted", "region_failover")
	if sb := servedBy(t, r); sb.Region != "us-east" || sb.Pool != "gpu-a100" || sb.Worker != "worker-c" || sb.Provider != config.LocalProvider {
		t.Fatalf("rerouted request served by %v, want worker-c in us-east", sb)
	}
	recs := evidenceOf(t, rt, globexKey, r.header.Get("X-Request-Id"))
	if len(recs) != 1 || recs[0].Outcome != outcome.Rerouted || recs[0].Reason != outcome.ReasonRegionFailover || recs[0].ServedBy.Region != "us-east" {
		t.Fatalf("evidence of the rerouted request %+v", recs)
	}
	for _, key := range []string{acmeKey, initechKey} {
		expectOutcome(t, ask(key), http.StatusForbidden, "rejected", "policy_forbids_fallback")
	}
	if seen := rig.standIn.Seen(); len(seen) != 0 {
		t.Fatalf("the provider was sent %d requests while a region could serve", len(seen))
	}

	rig.links["worker-c"].Cut()
	r = ask(globexKey)
	expectOutcome(t, r, http.StatusOK, "rerouted", "provider_fallback")
	if sb := servedBy(t, r); sb.Provider != "hosted-stand-in" || sb.Region != "us-east" || sb.Worker != "" || sb.Deployment == "" {
		t.Fatalf("hosted request served by %v, want provider hosted-stand-in in us-east", sb)
	}
	if !strings.Contains(string(r.body), `"content":" `) {
		t.Fatalf("hosted answer without content: %s", r.body)
	}
	recs = evidenceOf(t, rt, globexKey, r.header.Get("X-Request-Id"))
	if len(recs) != 1 || recs[0].ServedBy.Provider != "hosted-stand-in" || recs[0].ServedBy.Region != "us-east" || recs[0].Reason != outcome.ReasonProviderFallback || recs[0].Tokens.Prompt == 0 {
		t.Fatalf("evidence of the hosted request %+v", recs)
	}
	expectProviderStream(t, rt)
	for _, key := range []string{acmeKey, initechKey} {
		expectOutcome(t, ask(key), http.StatusForbidden, "rejected", "policy_forbids_fallback")
	}
	seen := rig.standIn.Seen()
	if tenants := rig.standIn.Tenants(); !slices.Equal(tenants, []string{"globex"}) || len(seen) != 2 {
		t.Fatalf("the provider saw tenants %v in %d requests, want globex's 2 only", tenants, len(seen))
	}
	for _, rec := range seen {
		if !rec.Authorized || rec.Credential != standin.Fingerprint(providerKey) || rec.User != "" {
			t.Fatalf("the provider received %+v, want the runtime's own key and no end-user label", rec)
		}
	}

	// The provider fails before any output: the request fails rather than move further, and the
	// provider sits out its cooldown, so the next one is refused at once.
	rig.standIn.SetDown(true)
	expectOutcome(t, ask(globexKey), http.StatusBadGateway, "failed", "dependency_unavailable")
	expectOutcome(t, ask(globexKey), http.StatusServiceUnavailable, "failed", "no_healthy_worker")
	expectOutcome(t, ask(acmeKey), http.StatusServiceUnavailable, "failed", "no_healthy_worker")
	if tenants := rig.standIn.Tenants(); !slices.Equal(tenants, []string{"globex"}) {
		t.Fatalf("the provider saw tenants %v, want globex only", tenants)
	}
}

// expectProviderStream: a streamed hosted answer states rerouted/provider_fallback in its
// headers, before the first token, as well as at its end.
func expectProviderStream(t *testing.T, rt *Runtime) {
	t.Helper()
	body := chat("stream it from the provider", 4)
	body["stream"] = true
	req, _ := http.NewRequest(http.MethodPost, "http://"+rt.Topology().HTTP+"/v1/chat/completions", strings.NewReader(string(mustMarshal(t, body))))
	req.Header.Set("Authorization", "Bearer "+globexKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.Header.Get(outcome.HeaderOutcome) != "rerouted" || !strings.Contains(resp.Header.Get(outcome.HeaderServedBy), "provider=hosted-stand-in") {
		t.Fatalf("stream headers %v, want rerouted by the provider", resp.Header)
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rest), "[DONE]") || resp.Trailer.Get(outcome.HeaderOutcome) != "rerouted" || resp.Trailer.Get(outcome.HeaderReason) != "provider_fallback" {
		t.Fatalf("stream ended with trailer %v: %s", resp.Trailer, rest)
	}
}

// TestFallbackModelIsDegraded: with the model's only eu-west worker gone, a tenant confined to
// eu-west is served by the declared fallback model there (degraded/fallback_model, and the
// response and evidence name the model that served), while a tenant allowed us-east keeps the
// model it asked for and moves instead: a move comes before a reduction.
func TestFallbackModelIsDegraded(t *testing.T) {
	cfg := devConfig(t)
	mini := cfg.Models[0]
	mini.Name, mini.ArtifactDigest = "arcert-sim-mini", "sha256:"+strings.Repeat("a", 64)
	cfg.Models[0].Fallback = mini.Name
	cfg.Models = append(cfg.Models, mini)
	cfg.Workers[1].Models = []string{mini.Name} // worker-b: the fallback model only
	rig := startFallbackRig(t, cfg)
	rig.links["worker-a"].Cut()

	r := post(t, rig.rt, "/v1/chat/completions", acmeKey, chat("a smaller model will do", 3), nil)
	expectOutcome(t, r, http.StatusOK, "degraded", "fallback_model")
	if sb := servedBy(t, r); sb.Region != "eu-west" || sb.Worker != "worker-b" {
		t.Fatalf("degraded request served by %v, want worker-b in eu-west", sb)
	}
	if !strings.Contains(string(r.body), `"model":"arcert-sim-mini"`) {
		t.Fatalf("degraded response does not name the model that served: %s", r.body)
	}
	recs := evidenceOf(t, rig.rt, acmeKey, r.header.Get("X-Request-Id"))
	if len(recs) != 1 || recs[0].Model != mini.Name || recs[0].ArtifactDigest != mini.ArtifactDigest || recs[0].Outcome != outcome.Degraded {
		t.Fatalf("evidence of the degraded request %+v", recs)
	}

	r = post(t, rig.rt, "/v1/chat/completions", globexKey, chat("the real model, please", 3), nil)
	expectOutcome(t, r, http.StatusOK, "rerouted", "region_failover")
	if sb := servedBy(t, r); sb.Worker != "worker-c" {
		t.Fatalf("globex served by %v, want worker-c", sb)
	}
}
