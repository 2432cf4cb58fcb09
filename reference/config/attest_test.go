package config

import (
	"strings"
	"testing"
)

// TestAttestationErrorsNameTheField breaks the attestation section one way at a time.
func TestAttestationErrorsNameTheField(t *testing.T) {
	base := string(devYAML(t))
	for name, c := range map[string]struct{ from, to, want string }{
		"bad key":    {"public_key: test-only", "public_key: nope", "attestation.public_key"},
		"no max age": {"max_age: 5s", "max_age: 0s", "attestation.max_age"},
		"nvml cc":    {"device: {<<: *device, confidential: true}", "device: {<<: *device, confidential: true, backend: nvml}", "device.confidential"},
		"no section": {"  public_key: test-only\n  max_age: 5s\n", "", "attestation"},
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
