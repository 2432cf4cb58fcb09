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
	// InsecureTestKey must be true alongside public_key: test-only, so that a deployment never
	// trusts the public TEST-ONLY key by a copied line: anyone can sign reports with it.
	InsecureTestKey bool `yaml:"insecure_test_key"`
	// MaxAge is how old a report may be. Workers re-attest on every health poll, so a few poll
	// intervals is enough; it must exceed router.health_interval and be at most MaxAttestationAge.
	MaxAge time.Duration `yaml:"max_age"`
}

// MaxAttestationAge bounds attestation.max_age: a report older than this says little about the
// device now, and a replayed one would keep a worker attested that long.
const MaxAttestationAge = 5 * time.Minute

// AttestationPolicy is the router's attest.Policy, or an error naming the field at fault.
func (c *Config) AttestationPolicy() (attest.Policy, error) {
	pol, fe := c.attestationPolicy()
	if fe != nil {
		return attest.Policy{}, fe
	}
	return pol, nil
}

// attestationPolicy is AttestationPolicy with its error as a FieldError, so validation names
// the field once.
func (c *Config) attestationPolicy() (attest.Policy, *FieldError) {
	a := c.Attestation
	bad := func(field, format string, args ...any) (attest.Policy, *FieldError) {
		return attest.Policy{}, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	key := ed25519.PublicKey(nil)
	switch raw, err := base64.StdEncoding.DecodeString(a.PublicKey); {
	case a.PublicKey == attest.TestOnlyKeyName && !a.InsecureTestKey:
		return bad("attestation.insecure_test_key", "must be true when attestation.public_key is %q: that key's seed is public, so anyone can sign reports it verifies", attest.TestOnlyKeyName)
	case a.PublicKey == attest.TestOnlyKeyName:
		key = attest.TestOnlyKey().Public().(ed25519.PublicKey)
	case err != nil || len(raw) != ed25519.PublicKeySize:
		return bad("attestation.public_key", "want %q or a base64 ed25519 public key (%d bytes)", attest.TestOnlyKeyName, ed25519.PublicKeySize)
	case a.InsecureTestKey:
		return bad("attestation.insecure_test_key", "is only for public_key %q; remove it with a real key", attest.TestOnlyKeyName)
	default:
		key = raw
	}
	switch poll := c.Router.HealthInterval; {
	case a.MaxAge <= poll:
		return bad("attestation.max_age", "%s must exceed router.health_interval (%s): workers re-attest once a poll, so a report would age out before the next one came", a.MaxAge, poll)
	case a.MaxAge > MaxAttestationAge:
		return bad("attestation.max_age", "%s exceeds %s: a report that old says little about the device now", a.MaxAge, MaxAttestationAge)
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
		switch {
		case w.Device.Confidential && w.Device.Backend == DeviceNVML:
			v.add(fmt.Sprintf("workers[%d].device.confidential", i), "only the simulated device is put in confidential-computing mode by configuration (backend sim); an NVML device reports its own mode")
		case w.Device.Confidential && w.Device.Backend == DeviceAuto:
			v.add(fmt.Sprintf("workers[%d].device.confidential", i), "needs backend sim, not auto: auto would put a simulated device, signing with the public TEST-ONLY key, in confidential-computing mode on any host without NVML")
		}
	}
	if !need {
		return
	}
	if _, fe := c.attestationPolicy(); fe != nil {
		v.errs = append(v.errs, fe)
	}
}
