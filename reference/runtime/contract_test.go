package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/aruntime/arcert/api/discovery"
	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// TestTenantComesFromTheCredentialOnly: acme's key with every label naming globex is still acme,
// in evidence and in the quota it spends.
func TestTenantComesFromTheCredentialOnly(t *testing.T) {
	cfg := devConfig(t)
	for i := range cfg.Tenants {
		// One request a second with a burst of one: the request spends a whole unit, which does
		// not refill before the quotas are read.
		cfg.Tenants[i].Quota.RequestsPerMinute = 60
	}
	rt := start(t, cfg)
	body := chat("tenant: globex. I am the globex tenant, bill globex.", 4)
	body["user"], body["cache_salt"] = "globex", "globex"
	r := post(t, rt, "/v1/chat/completions", acmeKey, body, map[string]string{"X-Tenant-ID": "globex", "X-Tenant": "globex"})
	expectOutcome(t, r, http.StatusOK, "completed", "none")
	recs := evidenceOf(t, rt, acmeKey, r.header.Get("X-Request-Id"))
	if len(recs) != 1 {
		t.Fatalf("%d evidence records, want 1", len(recs))
	}
	rec := recs[0]
	if rec.Tenant != "acme" || rec.Application != "acme-chat" || rec.User != "acme-alice" || rec.CostCenter != "cc-acme-001" {
		t.Fatalf("evidence names %s/%s/%s/%s, want acme", rec.Tenant, rec.Application, rec.User, rec.CostCenter)
	}
	if rec.ClientUser != "globex" {
		t.Fatalf("the client's label %q should be recorded as a label", rec.ClientUser)
	}
	if rec.Hash == "" || rec.ArtifactDigest == "" || rec.PolicyVersion == "" || rec.TraceID == "" || rec.Tokens.Completion != 4 {
		t.Fatalf("evidence record incomplete: %+v", rec)
	}
	// globex cannot read acme's record, even knowing its id.
	if recs := evidenceOf(t, rt, globexKey, r.header.Get("X-Request-Id")); len(recs) != 0 {
		t.Fatalf("globex sees %d of acme's records", len(recs))
	}
	var acme, globex discovery.Quotas
	mustJSON(t, get(t, rt, "/v1/aruntime/quotas", acmeKey), &acme)
	mustJSON(t, get(t, rt, "/v1/aruntime/quotas", globexKey), &globex)
	if acme.Tenant != "acme" || globex.Tenant != "globex" || acme.RequestsPerMinute.Remaining >= globex.RequestsPerMinute.Remaining {
		t.Fatalf("quota spent by whom? acme (%s) left %.2f, globex (%s) left %.2f", acme.Tenant, acme.RequestsPerMinute.Remaining, globex.Tenant, globex.RequestsPerMinute.Remaining)
	}
}

func mustJSON(t *testing.T, r response, v any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatal(err)
	}
}

// TestPrefixCacheIsolation: a repeat from the same tenant hits the prefix cache (the positive
// control); the other tenant, with the identical prompt or with the first tenant's name as its
// cache_salt, misses.
func TestPrefixCacheIsolation(t *testing.T) {
	rt := start(t, devConfig(t))
	prompt := strings.Repeat("The quarterly revenue figures for the northern region are confidential. ", 12)
	first := post(t, rt, "/v1/chat/completions", acmeKey, chat(prompt, 2), nil)
	expectOutcome(t, first, http.StatusOK, "completed", "none")
	again := post(t, rt, "/v1/chat/completions", acmeKey, chat(prompt, 2), nil)
	if _, cached := usageOf(t, again.body); cached == 0 {
		t.Fatal("positive control failed: acme's repeat did not hit the cache")
	}
	other := post(t, rt, "/v1/chat/completions", globexKey, chat(prompt, 2), nil)
	if _, cached := usageOf(t, other.body); cached != 0 {
		t.Fatalf("globex got %d cached tokens of acme's prompt", cached)
	}
	spoof := chat(prompt, 2)
	spoof["cache_salt"] = "acme"
	spoofed := post(t, rt, "/v1/chat/completions", globexKey, spoof, map[string]string{"X-Tenant-ID": "acme"})
	if _, cached := usageOf(t, spoofed.body); cached != 0 {
		t.Fatalf("globex with acme's salt got %d cached tokens", cached)
	}
}

// TestBadInputIsRejected: every malformed request gets its own rejected reason and the runtime
// keeps serving.
func TestBadInputIsRejected(t *testing.T) {
	rt := start(t, devConfig(t))
	huge := `{"model":"arcert-sim-small","max_tokens":4,"messages":[{"role":"user","content":"` + strings.Repeat("x", 2<<20) + `"}]}`
	long := chat(strings.Repeat("word ", 4000), 100)
	tests := []struct {
		name, key string
		body      any
		status    int
		reason    string
	}{
		{"malformed json", acmeKey, `{"model":`, 400, "invalid_request"},
		{"unknown model", acmeKey, map[string]any{"model": "gpt-5", "max_tokens": 4, "messages": []map[string]string{{"role": "user", "content": "hi"}}}, 400, "unknown_model"},
		{"missing max_tokens", acmeKey, map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": "hi"}}}, 400, "invalid_request"},
		{"negative max_tokens", acmeKey, chat("hi", -5), 400, "invalid_request"},
		{"huge max_tokens", acmeKey, chat("hi", 1<<40), 400, "invalid_request"},
		{"over context", acmeKey, long, 400, "context_length_exceeded"},
		{"invalid utf8", acmeKey, []byte("{\"model\":\"arcert-sim-small\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"\xc3\x28\"}]}"), 400, "invalid_request"},
		{"body over limit", acmeKey, huge, 413, "body_too_large"},
		{"missing key", "", chat("hi", 4), 401, "unauthenticated"},
		{"unknown key", "dev-acme-key-x", chat("hi", 4), 401, "unauthenticated"},
		{"operator key on data plane", "dev-operator-key", chat("hi", 4), 403, "forbidden"},
		{"worker key on data plane", "dev-worker-token", chat("hi", 4), 403, "forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, rt, "/v1/chat/completions", tc.key, tc.body, nil)
			expectOutcome(t, r, tc.status, "rejected", tc.reason)
			var e struct {
				Error struct{ Message, Code string } `json:"error"`
			}
			if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Message == "" || e.Error.Code != tc.reason {
				t.Fatalf("error body %s", r.body)
			}
		})
	}
	expectOutcome(t, post(t, rt, "/v1/chat/completions", acmeKey, chat("still up?", 2), nil), 200, "completed", "none")
}

// TestTrafficClassNotAllowed: a class the tenant does not have is refused, not silently mapped.
func TestTrafficClassNotAllowed(t *testing.T) {
	rt := start(t, devConfig(t))
	r := post(t, rt, "/v1/chat/completions", acmeKey, chat("hi", 2), map[string]string{"ARuntime-Traffic-Class": "platinum"})
	expectOutcome(t, r, http.StatusForbidden, "rejected", "traffic_class_not_allowed")
	r = post(t, rt, "/v1/chat/completions", acmeKey, chat("hi", 2), map[string]string{"ARuntime-Traffic-Class": "batch"})
	expectOutcome(t, r, http.StatusOK, "completed", "none")
}

// TestDiscovery: features are public; versions name every worker's digests; operator-only and
// tenant-only endpoints refuse the other role.
func TestDiscovery(t *testing.T) {
	rt := start(t, devConfig(t))
	var f discovery.Features
	mustJSON(t, get(t, rt, "/v1/aruntime/features", ""), &f)
	if f.Implementation != "aruntime" || len(f.Features) == 0 {
		t.Fatalf("features %+v", f)
	}
	var v discovery.Versions
	mustJSON(t, get(t, rt, "/v1/aruntime/versions", acmeKey), &v)
	if len(v.Workers) != 5 {
		t.Fatalf("%d workers reported, want 5 (two in eu-west, one in us-east, eu-west's prefill worker, the autoscaled group's first)", len(v.Workers))
	}
	for _, w := range v.Workers {
		if !w.Healthy || w.RuntimeVersion == "" || len(w.Artifacts) != 1 || !strings.HasPrefix(w.Artifacts[0].Digest, "sha256:") || len(w.Devices) != 1 {
			t.Fatalf("worker versions %+v", w)
		}
	}
	expectOutcome(t, get(t, rt, "/v1/aruntime/quotas", "dev-operator-key"), http.StatusForbidden, "rejected", "forbidden")
	expectOutcome(t, get(t, rt, "/v1/aruntime/versions", "dev-worker-token"), http.StatusForbidden, "rejected", "forbidden")
	expectOutcome(t, get(t, rt, "/v1/no/such/thing", acmeKey), http.StatusNotFound, "rejected", "not_found")
	expectOutcome(t, post(t, rt, "/v1/chat/completions", acmeKey, chat("count me", 2), nil), http.StatusOK, "completed", "none")
	// Capacity is the primary region's 2 x 8 slots: worker-c's 8 in us-east are failover
	// capacity, which admission offers only once eu-west has none, as the router serves eu-west
	// first for every tenant.
	m := string(get(t, rt, "/metrics", "").body)
	for _, series := range []string{`aruntime_queue_depth{traffic_class="interactive"}`, `aruntime_requests_total{outcome="completed",reason="none",tenant="acme",traffic_class="interactive"} 1`,
		`aruntime_worker_batch_size_count{worker="worker-`, "aruntime_capacity_slots 16"} {
		if !strings.Contains(m, series) {
			t.Errorf("metrics lack %s", series)
		}
	}
	var models struct {
		Data []struct{ ID string } `json:"data"`
	}
	mustJSON(t, get(t, rt, "/v1/models", acmeKey), &models)
	if len(models.Data) != 2 || models.Data[0].ID != model || models.Data[1].ID != scaleModel {
		t.Fatalf("models %+v, want %s and the autoscaled %s", models, model, scaleModel)
	}
}

// TestGRPCTrailers: the gRPC front door streams tokens and states the outcome in trailers, for
// successes and refusals alike.
func TestGRPCTrailers(t *testing.T) {
	rt := start(t, devConfig(t))
	conn, err := grpc.NewClient(rt.Topology().GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	client := arcertv1.NewInferenceClient(conn)
	call := func(key string, req *arcertv1.CompleteRequest) (texts int, usage *arcertv1.Usage, tr metadata.MD, err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stream, err := client.Complete(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key), req)
		if err != nil {
			return 0, nil, nil, err
		}
		for {
			msg, rerr := stream.Recv()
			if rerr != nil {
				if errors.Is(rerr, io.EOF) {
					rerr = nil
				}
				return texts, usage, stream.Trailer(), rerr
			}
			if msg.GetText() != "" {
				texts++
			}
			if msg.GetUsage() != nil {
				usage = msg.GetUsage()
			}
		}
	}
	req := &arcertv1.CompleteRequest{Model: model, Messages: []*arcertv1.ChatMessage{{Role: "user", Content: "hello over grpc"}}, MaxTokens: 5}
	n, u, tr, err := call(acmeKey, req)
	if err != nil || n != 5 || u.GetCompletionTokens() != 5 {
		t.Fatalf("tokens %d usage %v err %v", n, u, err)
	}
	if got := tr.Get("arcert-outcome"); len(got) != 1 || got[0] != "completed" || len(tr.Get("x-request-id")) != 1 || len(tr.Get("arcert-served-by")) != 1 {
		t.Fatalf("trailer %v", tr)
	}
	_, _, tr, err = call("wrong-key-123", req)
	if status.Code(err) != codes.Unauthenticated || tr.Get("arcert-outcome")[0] != "rejected" || tr.Get("arcert-outcome-reason")[0] != "unauthenticated" {
		t.Fatalf("bad key: err %v trailer %v", err, tr)
	}
	_, _, tr, err = call(acmeKey, &arcertv1.CompleteRequest{Model: "nope", Prompt: "x", MaxTokens: 1})
	if status.Code(err) != codes.InvalidArgument || tr.Get("arcert-outcome-reason")[0] != "unknown_model" {
		t.Fatalf("unknown model: err %v trailer %v", err, tr)
	}
}

// TestVersionsSayWhyAWorkerIsOut: a worker out of rotation is listed unhealthy with the router's
// reason, and the healthy ones with none, so whoever waits for a worker to come back can tell a
// dead one from one whose address answers as another.
func TestVersionsSayWhyAWorkerIsOut(t *testing.T) {
	rt := start(t, devConfig(t))
	if err := rt.KillWorker(t.Context(), "worker-b"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var v discovery.Versions
		mustJSON(t, get(t, rt, "/v1/aruntime/versions", acmeKey), &v)
		var b discovery.WorkerVersions
		for _, w := range v.Workers {
			switch {
			case w.Worker == "worker-b":
				b = w
			case w.Healthy && w.HealthReason != "":
				t.Fatalf("healthy worker %s has a health reason %q", w.Worker, w.HealthReason)
			}
		}
		if !b.Healthy && b.HealthReason != "" {
			if strings.Contains(b.HealthReason, "127.0.0.1") {
				t.Fatalf("a tenant reads worker-b's address in its health reason %q", b.HealthReason)
			}
			var ops discovery.Versions
			mustJSON(t, get(t, rt, "/v1/aruntime/versions", "dev-operator-key"), &ops)
			for _, w := range ops.Workers {
				if w.Worker == "worker-b" && !strings.Contains(w.HealthReason, "127.0.0.1") {
					t.Fatalf("an operator reads worker-b's health reason %q without the error that names its address", w.HealthReason)
				}
			}
			t.Logf("worker-b is out: %s", b.HealthReason)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker-b killed 10s ago is listed healthy %t with reason %q; want unhealthy with a reason", b.Healthy, b.HealthReason)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
