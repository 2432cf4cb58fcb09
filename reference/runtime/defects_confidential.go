package runtime

import (
	"time"

	"github.com/aruntime/arcert/reference/attest"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/router"
	"github.com/aruntime/arcert/reference/routing"
)

// ConfidentialDefects break confidential compute: what the router accepts as an attestation, and
// where it sends a confidential tenant once no attested worker is left.
type ConfidentialDefects struct {
	// NoFreshness accepts an attestation however old it is, so a report replayed from long ago
	// keeps a worker attested.
	NoFreshness bool
	// NoSignature accepts a report whatever signs it, so a device signing with a key nobody
	// declared counts as attested.
	NoSignature bool
	// NoVersionPin accepts whatever runtime version a report measures, so a worker running a
	// modified runtime counts as attested.
	NoVersionPin bool
	// Router are the router's own bugs of confidential compute.
	Router router.ConfidentialDefects
}

// lax is a Verifier that skips what the defects say and checks the rest as attest.Policy does.
type lax struct {
	pol attest.Policy
	d   ConfidentialDefects
}

var _ routing.Verifier = lax{}

// Verify implements routing.Verifier.
func (l lax) Verify(worker string, s attest.Signed, now time.Time) (attest.Verified, error) {
	pol := l.pol
	if l.d.NoFreshness {
		pol.MaxAge = 1<<63 - 1 // forever
	}
	r, err := s.Parse()
	if err != nil {
		return attest.Verified{}, err
	}
	if l.d.NoVersionPin {
		pol.RuntimeVersion = r.RuntimeVersion
	}
	if !l.d.NoSignature {
		return pol.Verify(worker, s, now)
	}
	v := attest.Verified{Report: r, Digest: s.Digest()}
	switch {
	case r.Worker != worker:
		return attest.Verified{}, attest.ErrWorker
	case r.CCMode != attest.ModeOn:
		return attest.Verified{}, attest.ErrNotConfidential
	case r.RuntimeVersion != pol.RuntimeVersion:
		return attest.Verified{}, attest.ErrVersion
	}
	return v, pol.Fresh(v, now)
}

// Fresh implements routing.Verifier.
func (l lax) Fresh(v attest.Verified, now time.Time) error {
	if l.d.NoFreshness {
		return nil
	}
	return l.pol.Fresh(v, now)
}

// verifier is the router's attestation verifier for cfg: nil when cfg declares no attestation
// section (no worker counts as attested), the policy itself unless a defect loosens it.
func (d ConfidentialDefects) verifier(cfg *config.Config) (routing.Verifier, error) {
	if cfg.Attestation == (config.Attestation{}) {
		return nil, nil
	}
	pol, err := cfg.AttestationPolicy()
	if err != nil || !d.NoFreshness && !d.NoSignature && !d.NoVersionPin {
		return pol, err
	}
	return lax{pol: pol, d: d}, nil
}
