package attest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestVerifyRefusesEachDefect signs one good report and one with each defect, and checks that
// only the good one verifies and each bad one fails with its own sentinel.
func TestVerifyRefusesEachDefect(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	pol := Policy{Key: TestOnlyKey().Public().(ed25519.PublicKey), MaxAge: 10 * time.Second, RuntimeVersion: "1.0"}
	good := Report{Worker: "w", Device: "GPU-1", CCMode: ModeOn, RuntimeVersion: "1.0", IssuedAt: now.Add(-time.Second), Nonce: "n"}
	cases := []struct {
		name   string
		edit   func(*Report)
		key    func() ed25519.PrivateKey
		worker string
		want   error
	}{
		{name: "good"},
		{name: "stale", edit: func(r *Report) { r.IssuedAt = now.Add(-time.Minute) }, want: ErrStale},
		{name: "future", edit: func(r *Report) { r.IssuedAt = now.Add(time.Minute) }, want: ErrStale},
		{name: "dated ahead within max age", edit: func(r *Report) { r.IssuedAt = now.Add(2 * time.Second) }, want: ErrStale},
		{name: "skew", edit: func(r *Report) { r.IssuedAt = now.Add(MaxClockSkew / 2) }},
		{name: "foreign key", key: ForeignTestKey, want: ErrSignature},
		{name: "other version", edit: func(r *Report) { r.RuntimeVersion = "0.9" }, want: ErrVersion},
		{name: "mode off", edit: func(r *Report) { r.CCMode = "off" }, want: ErrNotConfidential},
		{name: "replayed", worker: "other", want: ErrWorker},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := good
			if c.edit != nil {
				c.edit(&r)
			}
			key := TestOnlyKey()
			if c.key != nil {
				key = c.key()
			}
			s, err := Sign(r, key)
			if err != nil {
				t.Fatal(err)
			}
			worker := "w"
			if c.worker != "" {
				worker = c.worker
			}
			back, err := Decode(s.Encode())
			if err != nil {
				t.Fatal(err)
			}
			v, err := pol.Verify(worker, back, now)
			if c.want == nil && (err != nil || v.Digest != s.Digest()) {
				t.Fatalf("good report: %v, digest %q want %q", err, v.Digest, s.Digest())
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// TestTamperedReportFailsSignature changes one byte of a signed report.
func TestTamperedReportFailsSignature(t *testing.T) {
	s, err := Sign(Report{Worker: "w", CCMode: ModeOn}, TestOnlyKey())
	if err != nil {
		t.Fatal(err)
	}
	s.Report[len(s.Report)-2] ^= 1
	if _, err := (Policy{Key: TestOnlyKey().Public().(ed25519.PublicKey)}).Verify("w", s, time.Now()); !errors.Is(err, ErrSignature) {
		t.Fatalf("tampered report: %v", err)
	}
}

// TestDigestIsOfThePresentedText checks a decoded attestation's digest is the SHA-256 of the text
// as presented, not of a re-encoding: the same JSON with other spacing gets its own digest, the
// one the harness (which hashes what the listing shows) computes.
func TestDigestIsOfThePresentedText(t *testing.T) {
	s, err := Sign(Report{Worker: "w", CCMode: ModeOn}, TestOnlyKey())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s)
	text := base64.StdEncoding.EncodeToString(append([]byte(" "), b...)) // valid JSON, not Encode's bytes
	d, err := Decode(text)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(text))
	if want := "sha256:" + hex.EncodeToString(sum[:]); d.Digest() != want {
		t.Errorf("digest %s, want %s (of the presented text)", d.Digest(), want)
	}
}
