package device

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aruntime/arcert/reference/attest"
)

// ErrNotAttested means the device presents no attestation: it is not in confidential-computing
// mode, or its backend cannot attest. The error says which.
var ErrNotAttested = errors.New("device: no attestation")

// Attester is a device that can attest it runs in confidential-computing mode: a signed report
// naming the worker, the device, its mode and the runtime version measured on it, issued now.
type Attester interface {
	Attest(worker, runtimeVersion string) (attest.Signed, error)
}

// Attestation faults the simulated device can be told to show, so a harness can check that a
// router refuses what it should: a report replayed from long ago, one signed with a key the
// router never declared, and one measuring a runtime version other than the one pinned.
const (
	AttestStale     = "attestation_stale"
	AttestForged    = "attestation_forged"
	AttestUnpinned  = "attestation_unpinned"
	AttestWithdrawn = "attestation_withdrawn" // the device presents no report at all
	AttestModeOff   = "attestation_mode_off"  // a correctly signed report with the mode off
)

// unpinnedSuffix marks the runtime version an unpinned report measures: what a device running a
// modified runtime would attest.
const unpinnedSuffix = "+unpinned"

// staleAge is how old the simulated device's replayed report is: far beyond any sane maximum age.
const staleAge = time.Hour

// simAttest is the simulated device's confidential-computing mode: off unless Confidential was
// called, and then the device signs with the TEST-ONLY key unless a fault says otherwise.
type simAttest struct {
	mu     sync.Mutex
	key    ed25519.PrivateKey // nil: not in confidential-computing mode
	stale  *attest.Signed     // the report a stale device keeps presenting
	forged bool
	// unpinned makes reports measure another runtime version.
	unpinned bool
	// withdrawn presents nothing; modeOff signs reports saying the mode is off.
	withdrawn, modeOff bool
}

// Confidential puts the simulated device in confidential-computing mode, signing its reports
// with key (attest.TestOnlyKey in the reference).
func (s *Sim) Confidential(key ed25519.PrivateKey) {
	s.att.mu.Lock()
	defer s.att.mu.Unlock()
	s.att.key = key
}

// Attest implements Attester: a fresh report signed with the device's key, unless a fault makes
// it replay an old one or sign with a foreign key.
func (s *Sim) Attest(worker, runtimeVersion string) (attest.Signed, error) {
	a := &s.att
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.key == nil {
		return attest.Signed{}, fmt.Errorf("%w: simulated device %s is not in confidential-computing mode", ErrNotAttested, s.uuid)
	}
	if a.withdrawn {
		return attest.Signed{}, fmt.Errorf("%w: simulated device %s withdrew its attestation", ErrNotAttested, s.uuid)
	}
	if a.stale != nil {
		return *a.stale, nil
	}
	if a.unpinned {
		runtimeVersion += unpinnedSuffix
	}
	r := attest.Report{Worker: worker, Device: s.uuid, CCMode: attest.ModeOn, RuntimeVersion: runtimeVersion,
		IssuedAt: time.Now().UTC(), Nonce: nonce(), Simulated: true}
	if a.modeOff {
		r.CCMode = "off"
	}
	key := a.key
	if a.forged {
		key = attest.ForeignTestKey()
	}
	return attest.Sign(r, key)
}

// AttestFault shows one of the attestation faults (AttestStale, AttestForged, AttestUnpinned,
// AttestWithdrawn, AttestModeOff) until ClearAttest.
func (s *Sim) AttestFault(kind, worker, runtimeVersion string) error {
	a := &s.att
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.key == nil {
		return fmt.Errorf("%w: simulated device %s is not in confidential-computing mode", ErrNotAttested, s.uuid)
	}
	switch kind {
	case AttestStale:
		r := attest.Report{Worker: worker, Device: s.uuid, CCMode: attest.ModeOn, RuntimeVersion: runtimeVersion,
			IssuedAt: time.Now().Add(-staleAge).UTC(), Nonce: nonce(), Simulated: true}
		signed, err := attest.Sign(r, a.key)
		if err != nil {
			return err
		}
		a.stale = &signed
	case AttestForged:
		a.forged = true
	case AttestUnpinned:
		a.unpinned = true
	case AttestWithdrawn:
		a.withdrawn = true
	case AttestModeOff:
		a.modeOff = true
	default:
		return fmt.Errorf("device: attestation fault %q; want %s, %s, %s, %s or %s", kind, AttestStale, AttestForged, AttestUnpinned, AttestWithdrawn, AttestModeOff)
	}
	return nil
}

// ClearAttest ends any attestation fault.
func (s *Sim) ClearAttest() {
	s.att.mu.Lock()
	defer s.att.mu.Unlock()
	s.att.stale, s.att.forged, s.att.unpinned, s.att.withdrawn, s.att.modeOff = nil, false, false, false, false
}

func nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
