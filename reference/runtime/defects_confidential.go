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
	// NoMode accepts a report whatever confidential-computing mode it states, so a device that
	// says its mode is off counts as attested.
	NoMode bool
	// NoWorker accepts a report whatever worker it names, so a worker presenting another
	// worker's report counts as attested.
	NoWorker bool
	// KeepsVerdict updates a worker's verdict only when it presents a report and never rechecks
	// a kept verdict's age, so a worker that stops presenting one stays attested.
	KeepsVerdict bool
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
	r, err := s.Parse()
	if err != nil {
		return attest.Verified{}, err
	}
	if !l.d.NoSignature {
		if err := l.pol.CheckSignature(s); err != nil {
			return attest.Verified{}, err
		}
	}
	switch {
	case r.Worker != worker && !l.d.NoWorker:
		return attest.Verified{}, attest.ErrWorker
	case r.CCMode != attest.ModeOn && !l.d.NoMode:
		return attest.Verified{}, attest.ErrNotConfidential
	case r.RuntimeVersion != l.pol.RuntimeVersion && !l.d.NoVersionPin:
		return attest.Verified{}, attest.ErrVersion
	}
	v := attest.Verified{Report: r, Digest: s.Digest()}
	return v, l.Fresh(v, now)
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
	if err != nil || !d.NoFreshness && !d.NoSignature && !d.NoVersionPin && !d.NoMode && !d.NoWorker {
		return pol, err
	}
	return lax{pol: pol, d: d}, nil
}
