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
