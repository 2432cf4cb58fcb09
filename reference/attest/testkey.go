package attest

import (
	"crypto/ed25519"
	"crypto/sha256"
)

// TestOnlyKeyName is what a configuration writes for the attestation key to mean TestOnlyKey.
const TestOnlyKeyName = "test-only"

// TestOnlyKey is the key simulated devices sign their attestations with. TEST-ONLY: its seed is
// in this file, so anyone can forge a report it verifies; it exists so the embedded reference and
// its tests can attest without hardware, exactly as the artifact fixtures' keys sign artifacts.
func TestOnlyKey() ed25519.PrivateKey { return seeded("arcert TEST-ONLY simulated attestation key") }

// ForeignTestKey is a second TEST-ONLY key, for a device that signs with a key nobody declared
// (the simulated "attestation_forged" event).
func ForeignTestKey() ed25519.PrivateKey { return seeded("arcert TEST-ONLY foreign attestation key") }

func seeded(phrase string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(phrase))
	return ed25519.NewKeyFromSeed(seed[:])
}
