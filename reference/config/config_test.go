package config

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func devYAML(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/config/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDevConfigLoads(t *testing.T) {
	cfg, err := Parse("dev.yaml", devYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Tenants) != 4 || len(cfg.Workers) != 5 || len(cfg.Providers) != 1 {
		t.Fatalf("dev config has %d tenants, %d workers and %d providers, want 4 (one confidential), 5 (one a prefill worker, one autoscaled) and 1", len(cfg.Tenants), len(cfg.Workers), len(cfg.Providers))
	}
	if a, b := cfg.Workers[0].Device, cfg.Workers[1].Device; a.Confidential || !b.Confidential || a.Name != b.Name || a.Pressure != b.Pressure {
		t.Fatalf("worker-b's device %+v, want worker-a's %+v merged in and only worker-b confidential", b, a)
	}
	if !cfg.Tenants[3].DataPolicy.ConfidentialCompute {
		t.Fatalf("tenant %s does not require confidential compute", cfg.Tenants[3].Name)
	}
	for _, w := range cfg.Workers[1:4] { // worker-s, the autoscaled group's, has its own small engine
		if w.Engine != cfg.Workers[0].Engine {
			t.Fatalf("the YAML anchor did not give %s the engine of %s", w.ID, cfg.Workers[0].ID)
		}
	}
	if regions := []string{cfg.Workers[0].Region, cfg.Workers[1].Region, cfg.Workers[2].Region}; regions[0] != cfg.Runtime.Region || regions[1] != cfg.Runtime.Region || regions[2] == cfg.Runtime.Region {
		t.Fatalf("worker regions %v, want two in the primary region %s and one elsewhere", regions, cfg.Runtime.Region)
	}
	if p := cfg.Providers[0]; p.BaseURL != EmbeddedBaseURL || p.MaxConcurrency == 0 {
		t.Fatalf("provider %+v, want the embedded stand-in with a concurrency", p)
	}
}

// TestErrorsNameLineAndField breaks the dev config in one place at a time and checks that the
// error names the file, the line of the broken value and the field.
func TestErrorsNameLineAndField(t *testing.T) {
	base := string(devYAML(t))
	tests := []struct {
		name, from, to, want string
	}{
		{"duplicate key", "key: dev-globex-key", "key: dev-acme-key", "tenants[1].keys[0].key: this credential is already used"},
		{"short key", "key: dev-acme-key", "key: short", "tenants[0].keys[0].key: a credential must be at least"},
		{"unknown class", "default_class: interactive\n    keys:\n      - key: dev-globex-key", "default_class: realtime\n    keys:\n      - key: dev-globex-key", "tenants[1].default_class"},
		{"bad digest", "artifact_digest: sha256:5091", "artifact_digest: latest5091", "models[0].artifact_digest"},
		{"unknown field", "  retry_after: 1s", "  retry_afterr: 1s", "router.retry_afterr: unknown field (did you mean retry_after?)"},
		{"drain notice past the drain", "  retry_after: 1s", "  drain_notice: 10s\n  retry_after: 1s", "router.drain_notice: 10s must be at least 0 and below router.drain_timeout (10s)"},
		{"negative connection bound", "  retry_after: 1s", "  max_connections: -1\n  retry_after: 1s", "router.max_connections: must not be negative"},
		{"bad duration", "deadline: 5s", "deadline: soon", `traffic_classes[0].deadline: expected a duration such as 500ms or 2s, got "soon"`},
		{"zero queue", "queue_capacity: 64", "queue_capacity: 0", "traffic_classes[0].queue_capacity: must be greater than zero"},
		{"bad listen", "http_listen: 127.0.0.1:8080", "http_listen: localhost", "router.http_listen"},
		{"provider with a tenant's key", "key: dev-hosted-provider-key", "key: dev-globex-key", "providers[0].key: this credential is already used at tenants[1].keys[0].key"},
		{"provider without region", "region: us-east\n    base_url", "region: \"\"\n    base_url", "providers[0].region: is required"},
		{"provider base url", "base_url: embedded", "base_url: ftp://hosted", "providers[0].base_url"},
		{"provider named like the runtime", "name: hosted-stand-in", "name: aruntime", "providers[0].name"},
		{"provider model undeclared", "models: [arcert-sim-small]\n    max_concurrency", "models: [gpt-5]\n    max_concurrency", "providers[0].models[0]"},
		{"fallback undeclared", "prompt_price_micro_usd_per_1k: 150", "fallback: arcert-sim-tiny\n    prompt_price_micro_usd_per_1k: 150", "models[0].fallback: model \"arcert-sim-tiny\" is not declared"},
		{"protected pin not a digest", "{digest: \"sha256:88432126", "{digest: v3, approvals: 1}\n      - {digest: \"sha256:88432126", "models[0].protected_pins[0].digest: \"v3\" is not a pinned digest"},
		{"protected pin without approvals", "5dfe708d\", approvals: 2}", "5dfe708d\", approvals: 0}", "models[0].protected_pins[0].approvals: 0 must be at least 1"},
		{"operator's further key reused", "more_keys: [dev-operator-alt-key]", "more_keys: [dev-worker-token]", "operators[0].more_keys[0]: this credential is already used at router.worker_token"},
		{"operator named twice", "name: release-manager", "name: platform-ops", "operators[1].name: operator \"platform-ops\" is already declared at operators[0]"},
		{"protected pin beyond the operators", "5dfe708d\", approvals: 2}", "5dfe708d\", approvals: 3}", "models[0].protected_pins[0].approvals: 3 approvals, but only 2 operators are declared"},
		{"tool adapter with a tenant's key", "adapter_key: dev-tool-adapter-key", "adapter_key: dev-acme-key", "tools.adapter_key: this credential is already used at tenants[0].keys[0].key"},
		{"tool adapter with the operator's key", "adapter_key: dev-tool-adapter-key", "adapter_key: dev-operator-key", "tools.adapter_key: this credential is already used at operators[0].key"},
		{"tool router key is the worker token", "router_key: dev-tool-router-key", "router_key: dev-worker-token", "tools.router_key: this credential is already used at router.worker_token"},
		{"tool router key missing", "router_key: dev-tool-router-key", "router_key: \"\"", "tools.router_key: give the router's own credential"},
		{"tool call beyond a class deadline", "call_timeout: 2s", "call_timeout: 1h", "tools.call_timeout: 1h0m0s is not within the deadline of class"},
		{"tenant tool not served", "tools: [lookup_order]      #", "tools: [send_email]      #", `tenants[0].tools[0]: tool "send_email" is not one of tools.served`},
		{"tools without a server", "server_url: embedded", "server_url: \"\"", "tools.server_url"},
		{"fallback to itself", "prompt_price_micro_usd_per_1k: 150", "fallback: arcert-sim-small\n    prompt_price_micro_usd_per_1k: 150", "models[0].fallback: a model cannot be its own fallback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			broken := strings.Replace(base, tc.from, tc.to, 1)
			if broken == base {
				t.Fatalf("test does not change the file: %q not found", tc.from)
			}
			_, err := Parse("dev.yaml", []byte(broken))
			if err == nil {
				t.Fatal("broken config accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			// The expected line is the first line of the replacement, in the broken file.
			line := strings.Count(base[:strings.Index(base, tc.from)], "\n") + 1
			if !strings.Contains(err.Error(), "dev.yaml:"+strconv.Itoa(line)+":") {
				t.Fatalf("error %q does not name line %d", err, line)
			}
			if !errors.Is(err, ErrInvalid) && !strings.Contains(err.Error(), "unmarshal") && !strings.Contains(err.Error(), "not found") {
				t.Fatalf("validation error %q is not ErrInvalid", err)
			}
		})
	}
}

// maxFuzzBytes bounds fuzz inputs, as libFuzzer's -max_len does: real files are a few kilobytes,
// and minimising a megabyte input that parses in half a second outlasts a short -fuzztime. Large
// inputs are bounded by the parser's own size limit and rejected in linear time.
const maxFuzzBytes = 64 << 10

func FuzzParse(f *testing.F) {
	f.Add(devYAML(f))
	f.Add([]byte("runtime: {version: 1}\ntenants: [{name: a}]"))
	f.Add([]byte("workers: &a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzBytes {
			return // see maxFuzzBytes
		}
		cfg, err := Parse("fuzz.yaml", data)
		if err == nil && cfg == nil {
			t.Fatal("nil config without an error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("error %q does not name the file", err)
		}
	})
}

// TestProviderKeyFromEnvironment: key_env is read at load and then checked like a written key,
// so an environment variable holding a tenant's key is refused as well.
func TestProviderKeyFromEnvironment(t *testing.T) {
	base := strings.Replace(string(devYAML(t)), "key: dev-hosted-provider-key", "key_env: ARCERT_TEST_PROVIDER_KEY", 1)
	t.Setenv("ARCERT_TEST_PROVIDER_KEY", "from-the-environment")
	cfg, err := Parse("dev.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Providers[0].Key; got != "from-the-environment" {
		t.Fatalf("provider key %q, want the environment's", got)
	}
	for _, tc := range []struct{ name, value, want string }{
		{"unset", "", "providers[0].key_env: environment variable ARCERT_TEST_PROVIDER_KEY is not set"},
		{"a tenant's key", "dev-acme-key", "providers[0].key: this credential is already used at tenants[0].keys[0].key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("ARCERT_TEST_PROVIDER_KEY", tc.value)
			_, err := Parse("dev.yaml", []byte(base))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestFallbackMustCoverTheModel: a fallback model with a smaller context would refuse prompts the
// model admitted, so the configuration refuses it.
func TestFallbackMustCoverTheModel(t *testing.T) {
	cfg, err := Parse("dev.yaml", devYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	small := cfg.Models[0]
	tiny := small
	tiny.Name, tiny.ContextLength, tiny.MaxOutputTokens = "arcert-sim-tiny", small.ContextLength/2, small.MaxOutputTokens/2
	cfg.Models[0].Fallback = tiny.Name
	cfg.Models = append(cfg.Models, tiny)
	want := `models[0].fallback: "arcert-sim-tiny" has a context of 2048, less than the 4096`
	if errs := cfg.validate(); len(errs) != 1 || !strings.Contains(errs[0].Error(), want) {
		t.Fatalf("errors %v, want one containing %q", errs, want)
	}
	last := len(cfg.Models) - 1
	cfg.Models[last].ContextLength, cfg.Models[last].MaxOutputTokens = small.ContextLength, small.MaxOutputTokens
	if errs := cfg.validate(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "no worker or provider serves") {
		t.Fatalf("errors %v, want the unserved fallback refused", errs)
	}
	cfg.Workers[2].Models = append(cfg.Workers[2].Models, tiny.Name)
	if errs := cfg.validate(); len(errs) != 0 {
		t.Fatalf("a covering, served fallback refused: %v", errs)
	}
}

// TestPrefillBudgetDefaultsAndValidation: the dev workers chunk prefill by default, shortest
// first, and a negative budget or an unknown order is refused.
func TestPrefillBudgetDefaultsAndValidation(t *testing.T) {
	cfg, err := Parse("dev.yaml", devYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Workers[0].Engine
	if w.PrefillBudget() != DefaultPrefillBudget || w.PrefillOrder != PrefillShortestFirst {
		t.Fatalf("dev worker prefill budget %d order %q, want %d and %s", w.PrefillBudget(), w.PrefillOrder, DefaultPrefillBudget, PrefillShortestFirst)
	}
	w.UnchunkedPrefill = true
	if w.PrefillBudget() != 0 {
		t.Fatalf("unchunked_prefill gives a budget of %d, want 0", w.PrefillBudget())
	}
	var spec EngineSpec
	spec.applyPrefillDefaults()
	if spec.PrefillBudgetTokens != DefaultPrefillBudget || spec.PrefillOrder != PrefillShortestFirst {
		t.Fatalf("defaults %+v, want budget %d and order %s", spec, DefaultPrefillBudget, PrefillShortestFirst)
	}
	for _, bad := range []EngineSpec{{PrefillBudgetTokens: -1}, {PrefillOrder: "lifo"}} {
		v := &validator{}
		bad.validatePrefill(v, "workers[0].engine")
		if len(v.errs) == 0 {
			t.Fatalf("%+v validated without a mistake", bad)
		}
	}
}

// TestEvidenceMemoryBytes: the in-memory evidence bound defaults to 64 MiB and refuses a bound
// too small to keep a request's record until its client reads it.
func TestEvidenceMemoryBytes(t *testing.T) {
	cfg, err := Parse("dev.yaml", devYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Evidence.MemoryBytes != DefaultEvidenceMemoryBytes {
		t.Fatalf("evidence.memory_bytes defaults to %d, want %d", cfg.Evidence.MemoryBytes, DefaultEvidenceMemoryBytes)
	}
	cfg.Evidence.MemoryBytes = MinEvidenceMemoryBytes - 1
	if errs := cfg.validate(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "evidence.memory_bytes") {
		t.Fatalf("errors %v, want evidence.memory_bytes refused", errs)
	}
}

// TestAutoscaleRefusesWhatCannotScale: every mistake in the autoscale section is named, with the
// line of the section in the file.
func TestAutoscaleRefusesWhatCannotScale(t *testing.T) {
	for name, tc := range map[string]struct{ from, to, want string }{
		"unknown worker":             {"worker: worker-s", "worker: worker-z", `autoscale.worker: worker "worker-z" is not declared`},
		"shared model":               {"worker: worker-s", "worker: worker-a", "also serves a model of worker-a"},
		"max below min":              {"max_workers: 3", "max_workers: 0", "autoscale.max_workers: 0 is below min_workers 1"},
		"no min":                     {"min_workers: 1", "min_workers: 0", "autoscale.min_workers: must be at least 1"},
		"no persistence":             {"scale_out_after: 1500ms", "scale_out_after: 0s", "autoscale.scale_out_after: must be greater than zero"},
		"negative warm-up":           {"load_per_gb: 1s", "load_per_gb: -1s", "autoscale.load_per_gb: must not be negative"},
		"takes every admission slot": {"max_workers: 3", "max_workers: 4", "autoscale.max_workers: 4 instances hold up to 16 admitted requests"},
	} {
		t.Run(name, func(t *testing.T) {
			src := string(devYAML(t))
			if !strings.Contains(src, "  "+tc.from+"\n") {
				t.Fatalf("dev.yaml has no %q", tc.from)
			}
			_, err := Parse("dev.yaml", []byte(strings.Replace(src, "  "+tc.from+"\n", "  "+tc.to+"\n", 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestAutoscaleKeysWithoutAWorkerAreNamed: an autoscale section without its worker scales nothing,
// so each key it sets is refused by name rather than silently ignored.
func TestAutoscaleKeysWithoutAWorkerAreNamed(t *testing.T) {
	src := string(devYAML(t))
	if !strings.Contains(src, "  worker: worker-s\n") {
		t.Fatal("dev.yaml's autoscale section has no worker: worker-s")
	}
	_, err := Parse("dev.yaml", []byte(strings.Replace(src, "  worker: worker-s\n", "", 1)))
	if err == nil {
		t.Fatal("an autoscale section without a worker parsed")
	}
	for _, key := range []string{"min_workers", "max_workers", "scale_out_after", "scale_in_after", "cooldown", "interval", "load_per_gb"} {
		if !strings.Contains(err.Error(), "autoscale."+key) {
			t.Errorf("error %v does not name autoscale.%s", err, key)
		}
	}
}

// TestAutoscaleTemplateMustBeSimulated: instances copy the template's device, and a real GPU
// index cannot be copied to another instance, so a template on another backend is refused.
func TestAutoscaleTemplateMustBeSimulated(t *testing.T) {
	c, err := Parse("dev.yaml", devYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.Workers {
		if c.Workers[i].ID == c.Autoscale.Worker {
			c.Workers[i].Device.Backend = DeviceNVML
		}
	}
	errs := c.validate()
	found := false
	for _, e := range errs {
		found = found || strings.Contains(e.Error(), "autoscale.worker") && strings.Contains(e.Error(), "backend")
	}
	if !found {
		t.Fatalf("errors %v, want autoscale.worker refused for its nvml backend", errs)
	}
}
