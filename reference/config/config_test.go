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
	if len(cfg.Tenants) != 3 || len(cfg.Workers) != 2 {
		t.Fatalf("dev config has %d tenants and %d workers, want 3 and 2", len(cfg.Tenants), len(cfg.Workers))
	}
	if cfg.Workers[1].Engine != cfg.Workers[0].Engine {
		t.Fatal("the YAML anchor did not give both workers the same engine")
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
		{"unknown field", "  retry_after: 1s", "  retry_afterr: 1s", "field retry_afterr not found"},
		{"bad duration", "deadline: 5s", "deadline: soon", "cannot unmarshal"},
		{"zero queue", "queue_capacity: 64", "queue_capacity: 0", "traffic_classes[0].queue_capacity: must be greater than zero"},
		{"bad listen", "http_listen: 127.0.0.1:8080", "http_listen: localhost", "router.http_listen"},
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

func FuzzParse(f *testing.F) {
	f.Add(devYAML(f))
	f.Add([]byte("runtime: {version: 1}\ntenants: [{name: a}]"))
	f.Add([]byte("workers: &a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err == nil && cfg == nil {
			t.Fatal("nil config without an error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("error %q does not name the file", err)
		}
	})
}
