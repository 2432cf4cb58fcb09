package routing

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/aruntime/arcert/reference/attest"
)

// The Health response headers a worker presents its attestation in (reference/worker; the router
// does not import the worker).
const (
	metadataAttestation      = "arcert-attestation"
	metadataAttestationError = "arcert-attestation-error"
)

// Verifier checks a worker's attestation: attest.Policy is the conformant one.
type Verifier interface {
	Verify(worker string, s attest.Signed, now time.Time) (attest.Verified, error)
	Fresh(v attest.Verified, now time.Time) error
}

var _ Verifier = attest.Policy{}

// errNoVerifier is the attestation error of every worker of a pool given no Verifier.
var errNoVerifier = errors.New("routing: no attestation policy: no worker counts as attested")

// attestation is what a worker last presented and what verifying it found.
type attestation struct {
	raw      string // as presented, for the versions listing
	verified attest.Verified
	err      error
	kept     bool // the KeepsVerdict defect kept it when nothing was presented: never rechecked
}

// observeAttestation verifies the attestation header of one Health answer and keeps the result.
func (w *Worker) observeAttestation(md metadata.MD) {
	a := &attestation{}
	raws, reasons := md.Get(metadataAttestation), md.Get(metadataAttestationError)
	switch {
	case len(raws) == 1:
		a.raw = raws[0]
		a.verified, a.err = w.verifyRaw(raws[0])
	case len(reasons) > 0:
		a.err = fmt.Errorf("worker presents no attestation: %s", reasons[0])
	default:
		a.err = errors.New("worker presents no attestation")
	}
	if prev := w.att.Load(); w.pool.keeps && len(raws) == 0 && prev != nil && prev.err == nil {
		w.att.Store(&attestation{raw: prev.raw, verified: prev.verified, kept: true})
		return
	}
	if a.err == nil {
		w.remember(a)
	}
	if prev := w.att.Swap(a); a.err != nil && (prev == nil || prev.err == nil) {
		w.pool.log.Warn("worker not attested", "worker", w.ID, "err", a.err)
	}
}

func (w *Worker) verifyRaw(raw string) (attest.Verified, error) {
	if w.pool.verifier == nil {
		return attest.Verified{}, errNoVerifier
	}
	s, err := attest.Decode(raw)
	if err != nil {
		return attest.Verified{}, err
	}
	return w.pool.verifier.Verify(w.ID, s, time.Now())
}

// Attestation returns the worker's last verified attestation and whether it is still fresh now,
// with the reason when it is not; raw is what the worker last presented, verified or not.
func (w *Worker) Attestation() (v attest.Verified, raw string, err error) {
	a := w.att.Load()
	switch {
	case a == nil:
		return attest.Verified{}, "", errors.New("worker has presented no attestation yet")
	case a.err != nil:
		return attest.Verified{}, a.raw, a.err
	case a.kept:
		return a.verified, a.raw, nil
	}
	return a.verified, a.raw, w.pool.verifier.Fresh(a.verified, time.Now())
}

// Attested reports whether the worker is healthy and its attestation verified and still fresh:
// only then may a confidential tenant's data go there.
func (w *Worker) Attested() bool {
	_, _, err := w.Attestation()
	return err == nil && w.Healthy()
}

// recentAttestations is how many verified attestations each worker's ring keeps: at a 250 ms poll,
// the last minute's, so evidence written in that time names one the router can still show.
const recentAttestations = 256

// attestRing is a worker's recently verified attestations, oldest overwritten first.
type attestRing struct {
	mu   sync.Mutex
	next int
	ring [recentAttestations]*attestation
}

func (w *Worker) remember(a *attestation) {
	w.recent.mu.Lock()
	defer w.recent.mu.Unlock()
	w.recent.ring[w.recent.next] = a
	w.recent.next = (w.recent.next + 1) % recentAttestations
}

// LookupAttestation returns the worker and the attestation, as presented, that the router
// verified under digest within the last recentAttestations polls of each worker; ok is false when
// it verified none such. It lets anyone holding an evidence record check the attestation it names.
func (p *Pool) LookupAttestation(digest string) (worker, raw string, ok bool) {
	for _, w := range p.set.Load().workers {
		w.recent.mu.Lock()
		for _, a := range w.recent.ring {
			if a != nil && a.verified.Digest == digest {
				w.recent.mu.Unlock()
				return w.ID, a.raw, true
			}
		}
		w.recent.mu.Unlock()
	}
	return "", "", false
}

// Attests reports whether the pool verifies attestations at all (it was given a Verifier).
func (p *Pool) Attests() bool { return p.verifier != nil }
