package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	modelfixtures "github.com/aruntime/arcert/fixtures/artifacts"
	"github.com/aruntime/arcert/fixtures/artifacts/seeding"
	"github.com/aruntime/arcert/reference/config"
)

const (
	acmeKey   = "dev-acme-key"
	globexKey = "dev-globex-key"
	model     = "arcert-sim-small"
)

// devConfig loads the dev fixture with every listener on a free loopback port.
func devConfig(t *testing.T) *config.Config {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/config/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("dev.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Router.HTTPListen, cfg.Router.GRPCListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Router.HealthInterval = 50 * time.Millisecond
	return cfg
}

// start runs the embedded runtime (router and every worker) and stops it when the test ends.
func start(t *testing.T, cfg *config.Config) *Runtime {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt, err := Start(ctx, cfg, Options{Router: true, Workers: workerIDs(cfg), Cache: cfg.Cache.Listen != ""})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := rt.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return rt
}

// startDurable starts cfg with every worker and JetStream-backed state (batch queue, control
// plane, evidence), within startWithin, and shuts it down when the test ends.
func startDurable(t *testing.T, cfg *config.Config, startWithin time.Duration) *Runtime {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startWithin)
	defer cancel()
	rt, err := Start(ctx, cfg, durableOptions(t, cfg, workerIDs(cfg)...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	return rt
}

// workerIDs lists every worker of cfg, in every region.
func workerIDs(cfg *config.Config) []string {
	var ids []string
	for _, w := range cfg.Workers {
		ids = append(ids, w.ID)
	}
	return ids
}

// response is what a test reads of one HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// post sends body to path with key and extra headers.
func post(t *testing.T, rt *Runtime, path, key string, body any, hdr map[string]string) response {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+rt.Topology().HTTP+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func get(t *testing.T, rt *Runtime, path, key string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+rt.Topology().HTTP+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range resp.Trailer {
		resp.Header[k] = v
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// chat is a chat completion body.
func chat(content string, maxTokens int) map[string]any {
	return map[string]any{"model": model, "max_tokens": maxTokens, "messages": []map[string]string{{"role": "user", "content": content}}}
}

// expectOutcome fails unless r has the given status, class and reason.
func expectOutcome(t *testing.T, r response, status int, class, reason string) {
	t.Helper()
	if r.status != status || r.header.Get("ARuntime-Outcome") != class || r.header.Get("ARuntime-Outcome-Reason") != reason {
		t.Fatalf("got %d %s/%s, want %d %s/%s; body %s", r.status, r.header.Get("ARuntime-Outcome"),
			r.header.Get("ARuntime-Outcome-Reason"), status, class, reason, r.body)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Fatal("response without X-Request-Id")
	}
}

// evidenceOf reads the evidence records of request id as key sees them.
func evidenceOf(t *testing.T, rt *Runtime, key, id string) []discovery.Record {
	t.Helper()
	r := get(t, rt, "/v1/aruntime/evidence?request_id="+id, key)
	if r.status != http.StatusOK {
		t.Fatalf("evidence: %d %s", r.status, r.body)
	}
	var list discovery.EvidenceList
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	return list.Records
}

// awaitEvidence is evidenceOf once request id's record is there, or after 10 s: with JetStream,
// the evidence service chains a record moments after the router's append is acknowledged, so a
// read right after the response may not find it yet.
func awaitEvidence(t *testing.T, rt *Runtime, key, id string) []discovery.Record {
	t.Helper()
	recs := evidenceOf(t, rt, key, id)
	for end := time.Now().Add(10 * time.Second); len(recs) == 0 && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
		recs = evidenceOf(t, rt, key, id)
	}
	return recs
}

// usageOf decodes the usage of a non-streamed completion body.
func usageOf(t *testing.T, body []byte) (prompt, cached int) {
	t.Helper()
	var v struct {
		Usage struct {
			PromptTokens        int `json:"prompt_tokens"`
			PromptTokensDetails struct {
				CachedTokens int `json:"cached_tokens"`
			} `json:"prompt_tokens_details"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Usage.PromptTokens, v.Usage.PromptTokensDetails.CachedTokens
}

// durableOptions returns options that run the durable parts in a fresh data directory, with the fixture
// artifacts seeded as `aruntime up` seeds them.
func durableOptions(t *testing.T, cfg *config.Config, workers ...string) Options {
	t.Helper()
	return Options{Router: true, Workers: workers, DataDir: t.TempDir(), Cache: cfg.Cache.Listen != "",
		SeedArtifacts: seeding.Seeder(cfg.Artifacts.RepoPrefix), ArtifactKey: modelfixtures.PublicKey()}
}
