package target

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func reference(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/targets/reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFixturesParse(t *testing.T) {
	for _, f := range []string{"reference.yaml", "example-openai-compatible.yaml"} {
		tg, err := Load("../../fixtures/targets/" + f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(tg.Tenants) < 2 || !strings.HasPrefix(tg.Digest, "sha256:") {
			t.Fatalf("%s parsed incompletely: %+v", f, tg)
		}
	}
}

// TestProblemsNameLineAndField breaks the reference target one way at a time; each error names
// the file, the line and the field.
func TestProblemsNameLineAndField(t *testing.T) {
	base := string(reference(t))
	tests := []struct{ name, from, to, field string }{
		{"bad digest", "artifact_digest: sha256:5091", "artifact_digest: latest5091", "models[0].artifact_digest"},
		{"unknown field", "  probe_max_tokens: 8", "  probe_max_tokenz: 8", "capacity.probe_max_tokenz: unknown field"},
		{"negative quota", "quota: {requests_per_minute: 600,", "quota: {requests_per_minute: -1,", "tenants[2].quota.requests_per_minute"},
		{"bad duration", "deadline: 5s", "deadline: ten seconds", "traffic_classes[0].deadline"},
		{"unknown feature", "features: [outcomes,", "features: [outcomez,", "features[0]"},
		{"shared key", "key: dev-globex-key", "key: dev-acme-key", "tenants[1].key"},
		{"undeclared class", "traffic_classes: [interactive]\noperator", "traffic_classes: [interactive, bulk]\noperator", "tenants[2].traffic_classes[1]"},
		{"tenant tool undeclared", "tools: [lookup_order]\n  - name: globex", "tools: [send_email]\n  - name: globex", "tenants[0].tools[0]"},
		{"adapter with a tenant's key", "adapter_credential: dev-tool-adapter-key", "adapter_credential: dev-acme-key", "tools.adapter_credential"},
		{"short trade-off", "trade_off: No cross-tenant", "trade_off: no\n    x_trade_off: No cross-tenant", "placement.multi_tenancy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			broken := strings.Replace(base, tc.from, tc.to, 1)
			if broken == base {
				t.Fatalf("%q not found in the fixture", tc.from)
			}
			_, err := Parse("ref.yaml", []byte(broken))
			if err == nil {
				t.Fatal("broken target accepted")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%v is not ErrInvalid", err)
			}
			at := strings.Index(base, tc.from)
			line := strings.Count(base[:at], "\n") + 1
			want := "ref.yaml:" + strconv.Itoa(line) + ": " + tc.field
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not contain %q", err, want)
			}
		})
	}
}

func TestMalformedYAML(t *testing.T) {
	_, err := Parse("bad.yaml", []byte("apiVersion: arcert.dev/v1\nkind: [\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "bad.yaml:") {
		t.Fatalf("err %v", err)
	}
	if _, err := Parse("empty.yaml", nil); err == nil {
		t.Fatal("empty file accepted")
	}
}

// maxFuzzBytes bounds fuzz inputs, as libFuzzer's -max_len does: real files are a few kilobytes,
// and minimising a megabyte input that parses in half a second outlasts a short -fuzztime. Large
// inputs are bounded by the parser's own size limit and rejected in linear time.
const maxFuzzBytes = 64 << 10

func FuzzParse(f *testing.F) {
	f.Add(reference(f))
	f.Add([]byte("apiVersion: arcert.dev/v1\nkind: RuntimeDecisionRecord\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzBytes {
			return // see maxFuzzBytes
		}
		tg, err := Parse("fuzz.yaml", data)
		if err == nil && (tg == nil || len(tg.Tenants) < 2) {
			t.Fatal("accepted a target without two tenants")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml") && !strings.HasPrefix(err.Error(), "target:") {
			t.Fatalf("error %q names no file", err)
		}
	})
}

// TestContractSection: the outcome contract defaults to stated, the example infers, and a mapping
// with an outcome the contract does not have is refused at its line.
func TestContractSection(t *testing.T) {
	ref, err := Parse("ref.yaml", reference(t))
	if err != nil {
		t.Fatal(err)
	}
	if ref.OutcomesInferred() || ref.Contract.Outcomes != "" {
		t.Fatalf("the reference states its outcomes; got %+v", ref.Contract)
	}
	ex, err := Load("../../fixtures/targets/example-openai-compatible.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !ex.OutcomesInferred() || len(ex.Contract.Map) != 1 {
		t.Fatalf("the example infers with one rule; got %+v", ex.Contract)
	}
	if c, r, err := ex.Contract.Map[0].ClassReason(); err != nil || c != "shed" || r != "capacity" {
		t.Fatalf("rule 0 = %s/%s, %v", c, r, err)
	}
	base := string(reference(t))
	at := strings.Index(base, "features:")
	line := strings.Count(base[:at], "\n") + 2 // the map's first rule, on the line after contract:
	for _, tc := range []struct{ name, contract, want string }{
		{"unknown class", "contract: {outcomes: inferred, map: [\n  {status: 503, outcome: busy/capacity}]}\n",
			`contract.map[0].outcome: unknown class "busy"`},
		{"unknown reason", "contract: {outcomes: inferred, map: [\n  {status: 503, outcome: shed/busy}]}\n",
			`contract.map[0].outcome: unknown reason "busy"; the reasons of shed are capacity, device_pressure, draining, queue_full`},
		{"reason of another class", "contract: {outcomes: inferred, map: [\n  {code: x, outcome: shed/internal}]}\n",
			`contract.map[0].outcome: reason "internal" belongs to class "failed", not "shed"`},
		{"served class", "contract: {outcomes: inferred, map: [\n  {code: x, outcome: completed/none}]}\n",
			`contract.map[0].outcome: class "completed" is served`},
		{"map without inferring", "contract: {map: [\n  {code: x, outcome: shed/capacity}]}\n",
			`contract.map: a map applies only when contract.outcomes is inferred`},
		{"nothing to match", "contract: {outcomes: inferred, map: [\n  {outcome: shed/capacity}]}\n",
			`contract.map[0]: give status, type or code`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broken := base[:at] + tc.contract + base[at:]
			_, err := Parse("ref.yaml", []byte(broken))
			if err == nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("accepted or wrong error: %v", err)
			}
			wantLine := line
			if strings.HasPrefix(tc.want, "contract.map:") {
				wantLine = line - 1 // the map itself, on contract's own line
			}
			want := "ref.yaml:" + strconv.Itoa(wantLine) + ": " + tc.want
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not contain %q", err, want)
			}
		})
	}
}
