package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/target"
)

// runArcert runs arcert with args in this process and returns its standard output.
func runArcert(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := rootCommand()
	cmd.SetArgs(args)
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return stdout.String(), err
}

func TestTargetValidateSaysWhatEachRequirementWillBe(t *testing.T) {
	out, err := runArcert(t, "target", "validate", "../../fixtures/targets/example-openai-compatible.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`valid arcert.dev/v1 for my-gateway\+vllm`,
		`(?m)^profile core: \d+ runs, \d+ NOT_SUPPORTED$`,
		`(?m)^  OUT-9 +MUST +NOT_SUPPORTED +feature grpc is not declared$`,
		`(?m)^  VER-1 +MUST +NOT_SUPPORTED +feature versions is not declared$`,
		`(?m)^  runs: OUT-1 `,
		`(?m)^profile extended: `,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output lacks %s:\n%s", re, out)
		}
	}
}

func TestTargetValidateKeepsFileLineErrors(t *testing.T) {
	data, err := os.ReadFile("../../fixtures/targets/reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "broken.yaml")
	broken := strings.Replace(string(data), "  probe_max_tokens: 8", "  probe_max_tokenz: 8", 1)
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = runArcert(t, "target", "validate", path)
	if err == nil || !regexp.MustCompile(regexp.QuoteMeta(path)+`:\d+: capacity.probe_max_tokenz: unknown field`).MatchString(err.Error()) {
		t.Errorf("error %v, want FILE:LINE: field: message", err)
	}
}

// openAICompatible is a plain OpenAI-compatible runtime: no ARuntime header. refuseUnknown makes
// it refuse keys other than keys; cached makes its usage report cached prompt tokens.
func openAICompatible(t *testing.T, keys []string, refuseUnknown, cached bool) *httptest.Server {
	t.Helper()
	known := map[string]bool{}
	for _, k := range keys {
		known[k] = true
	}
	mux := http.NewServeMux()
	authorized := func(w http.ResponseWriter, r *http.Request) bool {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if refuseUnknown && !known[key] {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"message":"invalid api key","type":"invalid_request_error"}}`))
			return false
		}
		return true
	}
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		if authorized(w, r) {
			_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"tiny-random","object":"model"}]}`))
		}
	})
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(w, r) {
			return
		}
		var req struct {
			Stream bool `json:"stream"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req.Stream {
			w.Header().Set("Content-Type", "text/event-stream")
			for _, tok := range []string{"Hel", "lo"} {
				fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", tok)
			}
			fmt.Fprint(w, "data: [DONE]\n\n")
			return
		}
		usage := `{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}`
		if cached {
			usage = `{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":0}}`
		}
		fmt.Fprintf(w, `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],"usage":%s}`, usage)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// initAndValidate runs target init against url with keys, then validates what it wrote, and
// returns the file and the validation's output.
func initAndValidate(t *testing.T, url string, keys ...string) (*target.Target, string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "target.yaml")
	args := []string{"target", "init", "--url", url, "-o", path}
	for _, k := range keys {
		args = append(args, "--key", k)
	}
	if _, err := runArcert(t, args...); err != nil {
		t.Fatalf("init: %v", err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runArcert(t, "target", "validate", path)
	if err != nil {
		t.Fatalf("validate rejects what init wrote: %v\n%s", err, text)
	}
	tg, err := target.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tg, string(text), out
}

func TestTargetInitPlainRuntimeAcceptingAnyKey(t *testing.T) {
	srv := openAICompatible(t, nil, false, false)
	tg, text, plan := initAndValidate(t, srv.URL+"/v1/")
	if tg.Endpoints.HTTP != srv.URL || !tg.OutcomesInferred() || tg.Models[0].Name != "tiny-random" {
		t.Errorf("endpoint %s, inferred %v, model %s", tg.Endpoints.HTTP, tg.OutcomesInferred(), tg.Models[0].Name)
	}
	if !tg.Declares("streaming") || tg.Declares("tenant-binding") || tg.Declares("prefix-cache") {
		t.Errorf("features %v: want streaming, and neither tenant-binding (any key is served) nor prefix-cache", tg.Features)
	}
	for _, want := range []string{"any key is accepted", "usage reports no cached prompt tokens", "TODO", "outcomes: inferred"} {
		if !strings.Contains(text, want) {
			t.Errorf("the target lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(plan, "TEN-1") || !strings.Contains(plan, "feature tenant-binding is not declared") {
		t.Errorf("validate does not say what the missing tenant binding costs:\n%s", plan)
	}
}

func TestTargetInitPlainRuntimeBindingKeys(t *testing.T) {
	srv := openAICompatible(t, []string{"key-a", "key-b"}, true, true)
	tg, text, _ := initAndValidate(t, srv.URL, "key-a", "key-b")
	// Keys bind callers, but without an evidence endpoint nothing shows who a request was bound
	// to: tenant binding is left out, and the target says why.
	if tg.Declares("tenant-binding") || !tg.Declares("prefix-cache") || !strings.Contains(text, "no evidence endpoint") {
		t.Errorf("features %v: want prefix-cache (cached_tokens reported) and no tenant-binding (no evidence endpoint)\n%s", tg.Features, text)
	}
	if tg.Tenants[0].Key != "key-a" || tg.Tenants[1].Key != "key-b" {
		t.Errorf("tenant keys %s, %s", tg.Tenants[0].Key, tg.Tenants[1].Key)
	}
	if !strings.Contains(text, "was refused (401)") {
		t.Errorf("the target does not say the unknown key was refused:\n%s", text)
	}
	// With one key only, the second tenant is a TODO and tenant binding is not claimed.
	tg, text, _ = initAndValidate(t, srv.URL, "key-a")
	if tg.Declares("tenant-binding") || !strings.Contains(text, "TODO-KEY-OF-TENANT-B") {
		t.Errorf("one key: features %v\n%s", tg.Features, text)
	}
}

func TestTargetInitDeadURLSaysSoInOneLine(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := runArcert(t, "target", "init", "--url", url)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot reach "+url) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q, want one line saying the runtime cannot be reached", err)
	}
}

func TestTargetInitEmbeddedReference(t *testing.T) {
	ctx := context.Background()
	rt, stop, err := startEmbedded(ctx, "", nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	tg, text, _ := initAndValidate(t, "http://"+rt.Topology().HTTP, "dev-acme-key", "dev-globex-key")
	if tg.OutcomesInferred() || !tg.Declares("streaming") || !tg.Declares("tenant-binding") || !tg.Declares("evidence") {
		t.Errorf("the reference: inferred %v, features %v; want outcomes stated (%s), streaming, tenant-binding\n%s",
			tg.OutcomesInferred(), tg.Features, outcome.HeaderOutcome, text)
	}
	if tg.Models[0].Name != "arcert-sim-small" {
		t.Errorf("model %s", tg.Models[0].Name)
	}
}

// A target file that does not load is an error naming it, not a panic in the cleanup of what
// certify had started.
func TestCertifyUnloadableTargetIsAnError(t *testing.T) {
	_, err := runArcert(t, "certify", "--target", filepath.Join(t.TempDir(), "missing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("got %v, want an error naming the file", err)
	}
}

// With every profile by default, a target without dependency links does not stop certify: the
// Resilience profile is NOT_SUPPORTED and the run goes on (here to the preflight, which finds
// nothing listening).
func TestCertifyWithoutDependenciesSkipsResilience(t *testing.T) {
	data, err := os.ReadFile("../../fixtures/targets/ollama-direct.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	_ = ln.Close()
	file := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(data), "http://127.0.0.1:11434", dead)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = runArcert(t, "certify", "--target", file)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the runtime at "+dead) {
		t.Fatalf("got %v, want the preflight's refusal (the run got past the missing dependencies)", err)
	}
}
