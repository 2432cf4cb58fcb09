// Package artifact is the reference runtime's model artifact format and the
// code that moves it through an OCI registry.
//
// A model artifact is an OCI image manifest whose config is the model's
// declared limits and footprint (MediaTypeConfig) and whose single layer is
// its weights (MediaTypeWeights), optionally signed with ed25519 over the
// config and weights digests. Artifacts are pushed with oras-go and pulled by
// digest only: a tag can be moved under a running fleet, a digest cannot.
// The registry is not trusted: Pull re-hashes everything it receives,
// validates the config strictly and checks the signature the policy asks
// for, and refuses anything else with ErrInvalid, so a worker keeps serving
// what it had rather than an artifact nobody vouched for.
package artifact

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
)

// Media types of the artifact. The config media type doubles as the
// manifest's artifactType, so registries and tools can list model artifacts
// without fetching their config.
const (
	MediaTypeConfig  = "application/vnd.aruntime.model.config.v1+json"
	MediaTypeWeights = "application/vnd.aruntime.model.weights.v1"
	// AnnotationSignature carries the base64 ed25519 signature of
	// signedPayload on the manifest. It sits in the manifest rather than in
	// a referrer so that one fetch by digest brings everything to verify.
	AnnotationSignature = "dev.aruntime.model.signature.ed25519"
)

// Sentinel errors of the package, matched with errors.Is. Every reason an
// artifact is refused wraps ErrInvalid, so a caller that only needs "refuse
// and keep the old version" (outcome artifact_invalid) matches one error,
// while tests and operators can tell the reasons apart.
var (
	// ErrInvalid means the artifact failed verification; the wrapping error
	// says what is wrong.
	ErrInvalid = errors.New("artifact: invalid")
	// ErrNotPinned means the reference asked for is not a digest; artifacts
	// are pulled by digest only.
	ErrNotPinned = fmt.Errorf("%w: not pinned by digest", ErrInvalid)
	// ErrDigestMismatch means content served for a digest does not hash to
	// it (or is not the size the manifest declares).
	ErrDigestMismatch = fmt.Errorf("%w: digest mismatch", ErrInvalid)
	// ErrMalformed means the manifest or the model config is not what the
	// format requires; the message names the field.
	ErrMalformed = fmt.Errorf("%w: malformed", ErrInvalid)
	// ErrUnsigned means the policy requires a signature and the artifact
	// carries none.
	ErrUnsigned = fmt.Errorf("%w: unsigned", ErrInvalid)
	// ErrBadSignature means the artifact's signature does not verify with
	// the policy's public key.
	ErrBadSignature = fmt.Errorf("%w: bad signature", ErrInvalid)

	// ErrPolicy means the Policy cannot be enforced (a signature required
	// but no key to check it with). It is the caller's mistake, never the
	// artifact's, so it does not wrap ErrInvalid.
	ErrPolicy = errors.New("artifact: invalid policy")
	// ErrPack means a directory does not hold a packable artifact.
	ErrPack = errors.New("artifact: cannot pack")
)

// Policy is what a puller demands of an artifact beyond its digests and
// config, which are always checked.
type Policy struct {
	// RequireSignature refuses artifacts without a signature.
	RequireSignature bool
	// PublicKey verifies signatures. When set, a signature that is present
	// must verify even if RequireSignature is false: a wrong signature is
	// evidence of tampering, not a missing feature.
	PublicKey ed25519.PublicKey
}

// Model is a pulled, verified artifact.
type Model struct {
	Digest        string `json:"digest"` // the manifest digest it was pinned by
	Config        Config `json:"config"`
	ConfigDigest  string `json:"config_digest"`
	WeightsDigest string `json:"weights_digest"`
	WeightsSize   int64  `json:"weights_size"`
	// Signed is true when a signature was present and verified against the
	// policy's key.
	Signed bool `json:"signed"`
}

// Source pulls a model's artifacts from one registry, the repository named
// after the model. It is what a worker is given to apply versions with.
type Source struct {
	Registry string // host:port of the OCI registry
	// RepoPrefix is prepended to the model name to form the repository,
	// e.g. "models/" for "models/arcert-sim-small".
	RepoPrefix string
	Policy     Policy
	// PlainHTTP speaks plain HTTP to a registry that is not on loopback.
	PlainHTTP bool
}

// Pull fetches and verifies the artifact of model pinned by digest.
func (s Source) Pull(ctx context.Context, model, digest string) (Model, error) {
	return pull(ctx, s.Registry, s.PlainHTTP, s.RepoPrefix+model, digest, s.Policy)
}
