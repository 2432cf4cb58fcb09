package config

import (
	"strings"
	"testing"
)

// TestAttestationErrorsNameTheField breaks the attestation section one way at a time.
func TestAttestationErrorsNameTheField(t *testing.T) {
	base := string(devYAML(t))
	for name, c := range map[string]struct{ from, to, want string }{
		"bad key":                 {"public_key: test-only", "public_key: nope", "attestation.public_key"},
		"no max age":              {"max_age: 5s", "max_age: 0s", "attestation.max_age"},
		"nvml cc":                 {"device: {<<: *device, confidential: true}", "device: {<<: *device, confidential: true, backend: nvml}", "device.confidential"},
		"no section":              {"  public_key: test-only\n  insecure_test_key: true\n  max_age: 5s\n", "", "attestation.public_key"},
		"test key unacknowledged": {"insecure_test_key: true", "insecure_test_key: false", "attestation.insecure_test_key"},
		"max age within a poll":   {"max_age: 5s", "max_age: 250ms", "attestation.max_age: 250ms must exceed router.health_interval"},
		"max age too long":        {"max_age: 5s", "max_age: 1h", "attestation.max_age: 1h0m0s exceeds 5m0s"},
		"auto cc":                 {"device: {<<: *device, confidential: true}", "device: {<<: *device, confidential: true, backend: auto}", "device.confidential: needs backend sim"},
	} {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(base, c.from) {
				t.Fatalf("dev.yaml no longer contains %q", c.from)
			}
			_, err := Parse("dev.yaml", []byte(strings.Replace(base, c.from, c.to, 1)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error naming %s", err, c.want)
			}
		})
	}
}
