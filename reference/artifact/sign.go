package artifact

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/opencontainers/go-digest"
)

// signedPayload is what a signature covers: the config and weights digests,
// behind a domain prefix so a signature made for anything else never
// verifies as one of ours. The manifest's other fields are checked
// structurally by Pull, so covering the two digests covers what is served.
func signedPayload(config, weights digest.Digest) []byte {
	return []byte("arcert model artifact v1\nconfig " + config.String() + "\nweights " + weights.String() + "\n")
}

// sign returns the annotation value signing config and weights with key.
func sign(key ed25519.PrivateKey, config, weights digest.Digest) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(key, signedPayload(config, weights)))
}

// verifySignature enforces policy on a manifest's signature annotation; it
// reports whether a signature was present and verified.
func verifySignature(policy Policy, sig string, present bool, config, weights digest.Digest) (bool, error) {
	switch {
	case !present && policy.RequireSignature:
		return false, fmt.Errorf("%w: policy requires a signature and the manifest has no %s annotation", ErrUnsigned, AnnotationSignature)
	case !present || policy.PublicKey == nil:
		return false, nil // nothing to check, or nothing to check it with
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return false, fmt.Errorf("%w: annotation %s is not a base64 ed25519 signature", ErrBadSignature, AnnotationSignature)
	}
	if !ed25519.Verify(policy.PublicKey, signedPayload(config, weights), raw) {
		return false, fmt.Errorf("%w: does not verify with the policy's public key", ErrBadSignature)
	}
	return true, nil
}

// ParsePrivateKeyPEM reads an ed25519 private key in PKCS#8 PEM ("PRIVATE
// KEY"), the form `openssl genpkey -algorithm ed25519` writes. Text before
// the PEM block is ignored, which lets key files carry a warning line.
func ParsePrivateKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("no PRIVATE KEY PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	ed, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, want ed25519", key)
	}
	return ed, nil
}

// ParsePublicKeyPEM reads an ed25519 public key in PKIX PEM ("PUBLIC KEY"),
// the form `openssl pkey -pubout` writes.
func ParsePublicKeyPEM(data []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%w: no PUBLIC KEY PEM block", ErrPolicy)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: parse public key: %w", ErrPolicy, err)
	}
	ed, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: public key is %T, want ed25519", ErrPolicy, key)
	}
	return ed, nil
}

// LoadPublicKey reads a policy's public key from a PEM file.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
	}
	return ParsePublicKeyPEM(data)
}
