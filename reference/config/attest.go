package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/aruntime/arcert/reference/attest"
)

// Attestation is what the router demands before it routes a confidential tenant
// (data_policy.confidential_compute) to a worker: a report signed with PublicKey, at most MaxAge
// old, measuring runtime.version, from a device in confidential-computing mode.
type Attestation struct {
	// PublicKey is the base64 ed25519 key attestations are signed with, or "test-only" for the
	// simulated devices' TEST-ONLY key (attest.TestOnlyKey), whose seed is public.
	PublicKey string `yaml:"public_key"`
	// MaxAge is how old a report may be. Workers re-attest on every health poll, so a few poll
	// intervals is enough.
	MaxAge time.Duration `yaml:"max_age"`
}

// AttestationPolicy is the router's attest.Policy, or an error naming the field at fault.
func (c *Config) AttestationPolicy() (attest.Policy, error) {
	a := c.Attestation
	key := ed25519.PublicKey(nil)
	switch raw, err := base64.StdEncoding.DecodeString(a.PublicKey); {
	case a.PublicKey == attest.TestOnlyKeyName:
		key = attest.TestOnlyKey().Public().(ed25519.PublicKey)
	case err != nil || len(raw) != ed25519.PublicKeySize:
		return attest.Policy{}, fmt.Errorf("attestation.public_key: want %q or a base64 ed25519 public key (%d bytes)", attest.TestOnlyKeyName, ed25519.PublicKeySize)
	default:
		key = raw
	}
	if a.MaxAge <= 0 {
		return attest.Policy{}, fmt.Errorf("attestation.max_age: must be positive, got %s", a.MaxAge)
	}
	return attest.Policy{Key: key, MaxAge: a.MaxAge, RuntimeVersion: c.Runtime.Version}, nil
}

// validateAttestation checks the attestation section whenever something needs it: a confidential
// tenant or a worker declared confidential.
func (c *Config) validateAttestation(v *validator) {
	need := c.Attestation != (Attestation{})
	for _, t := range c.Tenants {
		need = need || t.DataPolicy.ConfidentialCompute
	}
	for i, w := range c.Workers {
		need = need || w.Device.Confidential
		if w.Device.Confidential && w.Device.Backend == DeviceNVML {
			v.add(fmt.Sprintf("workers[%d].device.confidential", i), "only the simulated device is put in confidential-computing mode by configuration (backend sim, or auto where it falls back to sim); an NVML device reports its own mode")
		}
	}
	if !need {
		return
	}
	if _, err := c.AttestationPolicy(); err != nil {
		v.add("attestation", "%v", err)
	}
}
