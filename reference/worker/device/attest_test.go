package device

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/aruntime/arcert/reference/attest"
)

// TestSimAttestsOnlyInCCModeAndShowsItsFaults checks the simulated device presents nothing until
// it is put in confidential-computing mode, then a report the TEST-ONLY key verifies, and that
// each fault yields the report the router must refuse, until cleared.
func TestSimAttestsOnlyInCCModeAndShowsItsFaults(t *testing.T) {
	s := NewSim(0, "sim", 1<<30)
	if _, err := s.Attest("w", "1.0"); !errors.Is(err, ErrNotAttested) {
		t.Fatalf("device not in CC mode attested: %v", err)
	}
	s.Confidential(attest.TestOnlyKey())
	pol := attest.Policy{Key: attest.TestOnlyKey().Public().(ed25519.PublicKey), MaxAge: 10 * time.Second, RuntimeVersion: "1.0"}
	verify := func() error {
		signed, err := s.Attest("w", "1.0")
		if err != nil {
			t.Fatal(err)
		}
		_, err = pol.Verify("w", signed, time.Now())
		return err
	}
	if err := verify(); err != nil {
		t.Fatalf("fresh report: %v", err)
	}
	for kind, want := range map[string]error{AttestStale: attest.ErrStale, AttestForged: attest.ErrSignature, AttestUnpinned: attest.ErrVersion, AttestModeOff: attest.ErrNotConfidential} {
		if err := s.AttestFault(kind, "w", "1.0"); err != nil {
			t.Fatal(err)
		}
		if err := verify(); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", kind, err, want)
		}
		s.ClearAttest()
		if err := verify(); err != nil {
			t.Errorf("after clearing %s: %v", kind, err)
		}
	}
}

// TestSimWithdrawnPresentsNothing checks attestation_withdrawn stops the device presenting any
// report until cleared.
func TestSimWithdrawnPresentsNothing(t *testing.T) {
	s := NewSim(0, "sim", 1<<30)
	s.Confidential(attest.TestOnlyKey())
	if err := s.AttestFault(AttestWithdrawn, "w", "1.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Attest("w", "1.0"); !errors.Is(err, ErrNotAttested) {
		t.Fatalf("withdrawn device attested: %v", err)
	}
	s.ClearAttest()
	if _, err := s.Attest("w", "1.0"); err != nil {
		t.Fatalf("after clearing: %v", err)
	}
}
