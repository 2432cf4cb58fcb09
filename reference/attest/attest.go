// Package attest is the confidential-computing attestation a worker presents and the router
// verifies before it sends a confidential tenant's data there. A worker's device states, in a
// signed report, which worker it serves, whether it runs in confidential-computing mode, the
// runtime version measured on it and when it said so; the router accepts the report only when the
// signature verifies with the declared key, the report is younger than the declared maximum age,
// the measured runtime version is the pinned one and the mode is on. Anything less and the worker
// is unattested: a confidential tenant is refused rather than served there.
//
// The simulated device signs with a TEST-ONLY key whose seed is public (TestOnlyKey), as the
// artifact fixtures do; a real deployment declares its attestation service's public key.
package attest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of Verify, matched with errors.Is: each is a different reason a worker is not
// attested, named in the router's log and in the versions listing.
var (
	// ErrMalformed means the presented attestation does not decode.
	ErrMalformed = errors.New("attest: malformed attestation")
	// ErrSignature means the signature does not verify with the policy's key.
	ErrSignature = errors.New("attest: signature does not verify")
	// ErrStale means the report is older than the policy's maximum age (or from the future).
	ErrStale = errors.New("attest: report is stale")
	// ErrVersion means the measured runtime version is not the pinned one.
	ErrVersion = errors.New("attest: measured runtime version is not the pinned one")
	// ErrWorker means the report names another worker, so it was replayed from elsewhere.
	ErrWorker = errors.New("attest: report names another worker")
	// ErrNotConfidential means the device says it does not run in confidential-computing mode.
	ErrNotConfidential = errors.New("attest: device is not in confidential-computing mode")
)

// ModeOn is Report.CCMode of a device in confidential-computing mode; anything else is not.
const ModeOn = "on"

// Report is what a device attests.
type Report struct {
	Worker         string    `json:"worker"`
	Device         string    `json:"device"`
	CCMode         string    `json:"cc_mode"`
	RuntimeVersion string    `json:"runtime_version"`
	IssuedAt       time.Time `json:"issued_at"`
	// Nonce makes every report unique, so two digests never name two different reports.
	Nonce     string `json:"nonce"`
	Simulated bool   `json:"simulated,omitempty"`
}

// Signed is a report as presented: its exact bytes and the signature over them, so the verifier
// checks what was signed rather than a re-encoding of it.
type Signed struct {
	Report    []byte `json:"report"`
	Signature []byte `json:"signature"`
	// presented is the text Decode read, when it read one: the digest is taken over it, so it
	// names exactly what the worker presented (and the harness hashes), not a re-encoding.
	presented string
}

// domain prefixes what a signature covers, so a signature made for anything else (an artifact,
// say, with a key used for both) never verifies as an attestation.
const domain = "arcert attestation v1\n"

// Sign encodes r and signs it with key.
func Sign(r Report, key ed25519.PrivateKey) (Signed, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return Signed{}, fmt.Errorf("attest: encode report: %w", err)
	}
	return Signed{Report: b, Signature: ed25519.Sign(key, append([]byte(domain), b...))}, nil
}

// Encode renders s for a header: base64 of its JSON.
func (s Signed) Encode() string {
	b, _ := json.Marshal(s) // two byte slices always encode
	return base64.StdEncoding.EncodeToString(b)
}

// Decode reads what Encode wrote.
func Decode(v string) (Signed, error) {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return Signed{}, fmt.Errorf("%w: not base64: %w", ErrMalformed, err)
	}
	var s Signed
	if err := json.Unmarshal(raw, &s); err != nil {
		return Signed{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	s.presented = v
	return s, nil
}

// Digest names s: "sha256:" and the hex SHA-256 of the text presented (as Decode read it; of its
// Encode when s was never decoded), so anyone holding what the worker presented (the versions
// listing gives it) recomputes it byte for byte.
func (s Signed) Digest() string {
	text := s.presented
	if text == "" {
		text = s.Encode()
	}
	sum := sha256.Sum256([]byte(text))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Parse decodes s's report without checking anything.
func (s Signed) Parse() (Report, error) {
	var r Report
	if err := json.Unmarshal(s.Report, &r); err != nil {
		return Report{}, fmt.Errorf("%w: report: %w", ErrMalformed, err)
	}
	return r, nil
}

// Verified is a report that passed Verify, with the digest of what was presented.
type Verified struct {
	Report
	Digest string
}

// Policy is what the router demands of an attestation.
type Policy struct {
	Key ed25519.PublicKey
	// MaxAge is how old a report may be; a worker re-attests on every health poll.
	MaxAge time.Duration
	// RuntimeVersion is the pinned runtime version the measurement must equal.
	RuntimeVersion string
}

// Verify checks s as worker's attestation at now: signature, worker, mode, version, freshness.
func (p Policy) Verify(worker string, s Signed, now time.Time) (Verified, error) {
	if err := p.CheckSignature(s); err != nil {
		return Verified{}, err
	}
	r, err := s.Parse()
	if err != nil {
		return Verified{}, err
	}
	v := Verified{Report: r, Digest: s.Digest()}
	switch {
	case r.Worker != worker:
		return Verified{}, fmt.Errorf("%w: %q, presented by %q", ErrWorker, r.Worker, worker)
	case r.CCMode != ModeOn:
		return Verified{}, fmt.Errorf("%w: mode %q", ErrNotConfidential, r.CCMode)
	case r.RuntimeVersion != p.RuntimeVersion:
		return Verified{}, fmt.Errorf("%w: measured %q, pinned %q", ErrVersion, r.RuntimeVersion, p.RuntimeVersion)
	}
	return v, p.Fresh(v, now)
}

// CheckSignature reports ErrSignature unless s's signature verifies with the policy's key.
func (p Policy) CheckSignature(s Signed) error {
	if len(p.Key) != ed25519.PublicKeySize || !ed25519.Verify(p.Key, append([]byte(domain), s.Report...), s.Signature) {
		return ErrSignature
	}
	return nil
}

// MaxClockSkew is how far ahead of the verifier's clock a report may be dated: the device's and
// the router's clocks differ by far less under NTP. It is small and fixed rather than MaxAge, which
// would let a report dated ahead live up to twice MaxAge; the harness allows the same second
// (suites' ccClockSkew).
const MaxClockSkew = time.Second

// Fresh reports ErrStale when v is older than MaxAge at now, or dated more than MaxClockSkew
// ahead of now.
func (p Policy) Fresh(v Verified, now time.Time) error {
	switch age := now.Sub(v.IssuedAt); {
	case age > p.MaxAge:
		return fmt.Errorf("%w: issued %s, %s old, max age %s", ErrStale, v.IssuedAt.UTC().Format(time.RFC3339), age.Round(time.Millisecond), p.MaxAge)
	case -age > MaxClockSkew:
		return fmt.Errorf("%w: dated %s, %s ahead of now, beyond the %s clock skew allowed", ErrStale, v.IssuedAt.UTC().Format(time.RFC3339), (-age).Round(time.Millisecond), MaxClockSkew)
	}
	return nil
}
