package artifact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// MaxManifestBytes bounds the manifest read before it is verified; ours are
// under 1 KiB, and the bound keeps a hostile registry from making a puller
// buffer without limit.
const MaxManifestBytes = 64 << 10

// Pull fetches the artifact pinned by ref (a digest, never a tag) from repo
// on the registry at registryAddr and verifies it: the manifest hashes to
// ref and has the format's shape, the signature satisfies policy (checked
// before any blob is fetched, so an unvouched artifact costs one small
// request), the config and weights hash to their descriptors and the config
// is valid. Verification failures wrap ErrInvalid; anything else (registry
// unreachable, content not found, ctx ended) is returned wrapped as is, so a
// caller can tell a bad artifact from a bad network.
func Pull(ctx context.Context, registryAddr, repo, ref string, policy Policy) (Model, error) {
	return pull(ctx, registryAddr, false, repo, ref, policy)
}

// pull is Pull, over plain HTTP also to a registry off loopback when plainHTTP is set.
func pull(ctx context.Context, registryAddr string, plainHTTP bool, repo, ref string, policy Policy) (Model, error) {
	if policy.RequireSignature && policy.PublicKey == nil {
		return Model{}, fmt.Errorf("%w: a signature is required but no public key is given", ErrPolicy)
	}
	pinned, err := digest.Parse(ref)
	if err != nil {
		return Model{}, fmt.Errorf("%w: %q: %w", ErrNotPinned, ref, err)
	}
	r, err := repository(registryAddr, repo, plainHTTP)
	if err != nil {
		return Model{}, err
	}
	m, err := fetchManifest(ctx, r, pinned)
	if err != nil {
		return Model{}, fmt.Errorf("artifact: pull %s@%s: %w", repo, pinned, err)
	}
	cfgDesc, wDesc := m.Config, m.Layers[0]
	sig, present := m.Annotations[AnnotationSignature]
	signed, err := verifySignature(policy, sig, present, cfgDesc.Digest, wDesc.Digest)
	if err != nil {
		return Model{}, fmt.Errorf("artifact: pull %s@%s: %w", repo, pinned, err)
	}
	cfgBytes, err := content.FetchAll(ctx, r, cfgDesc)
	if err != nil {
		return Model{}, fmt.Errorf("artifact: pull %s@%s: config blob %s: %w", repo, pinned, cfgDesc.Digest, classify(err))
	}
	cfg, err := ParseConfig(cfgBytes)
	if err != nil {
		return Model{}, fmt.Errorf("artifact: pull %s@%s: %w", repo, pinned, err)
	}
	if err := fetchWeights(ctx, r, wDesc); err != nil {
		return Model{}, fmt.Errorf("artifact: pull %s@%s: weights blob %s: %w", repo, pinned, wDesc.Digest, err)
	}
	return Model{
		Digest:        pinned.String(),
		Config:        cfg,
		ConfigDigest:  cfgDesc.Digest.String(),
		WeightsDigest: wDesc.Digest.String(),
		WeightsSize:   wDesc.Size,
		Signed:        signed,
	}, nil
}

// fetchManifest fetches the manifest by its digest, hashes what was served
// itself rather than trusting the registry's Docker-Content-Digest header,
// and checks the format's shape.
func fetchManifest(ctx context.Context, r *remote.Repository, pinned digest.Digest) (ocispec.Manifest, error) {
	_, rc, err := r.Manifests().FetchReference(ctx, pinned.String())
	if err != nil {
		return ocispec.Manifest{}, fmt.Errorf("manifest: %w", classify(err))
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxManifestBytes+1))
	if err != nil {
		return ocispec.Manifest{}, fmt.Errorf("manifest: %w", classify(err))
	}
	if len(data) > MaxManifestBytes {
		return ocispec.Manifest{}, fmt.Errorf("%w: manifest is over %d bytes", ErrMalformed, MaxManifestBytes)
	}
	if got := pinned.Algorithm().FromBytes(data); got != pinned {
		return ocispec.Manifest{}, fmt.Errorf("%w: manifest served for %s hashes to %s", ErrDigestMismatch, pinned, got)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return ocispec.Manifest{}, fmt.Errorf("%w: manifest: %w", ErrMalformed, err)
	}
	return m, checkShape(m)
}

// checkShape refuses manifests that are not model artifacts, so nothing
// else (an image, another tool's artifact) is ever applied as a model.
func checkShape(m ocispec.Manifest) error {
	switch {
	case m.MediaType != ocispec.MediaTypeImageManifest:
		return fmt.Errorf("%w: manifest mediaType %q, want %q", ErrMalformed, m.MediaType, ocispec.MediaTypeImageManifest)
	case m.ArtifactType != MediaTypeConfig:
		return fmt.Errorf("%w: manifest artifactType %q, want %q", ErrMalformed, m.ArtifactType, MediaTypeConfig)
	case m.Config.MediaType != MediaTypeConfig:
		return fmt.Errorf("%w: config mediaType %q, want %q", ErrMalformed, m.Config.MediaType, MediaTypeConfig)
	case m.Config.Size < 1 || m.Config.Size > MaxConfigBytes:
		return fmt.Errorf("%w: config size %d, want 1 to %d bytes", ErrMalformed, m.Config.Size, MaxConfigBytes)
	case len(m.Layers) != 1:
		return fmt.Errorf("%w: %d layers, want exactly one (the weights)", ErrMalformed, len(m.Layers))
	case m.Layers[0].MediaType != MediaTypeWeights:
		return fmt.Errorf("%w: layer mediaType %q, want %q", ErrMalformed, m.Layers[0].MediaType, MediaTypeWeights)
	case m.Layers[0].Size < 1:
		return fmt.Errorf("%w: weights size %d, want at least 1 byte", ErrMalformed, m.Layers[0].Size)
	}
	for _, d := range []digest.Digest{m.Config.Digest, m.Layers[0].Digest} {
		if err := d.Validate(); err != nil {
			return fmt.Errorf("%w: descriptor digest %q: %w", ErrMalformed, d, err)
		}
	}
	return nil
}

// fetchWeights streams the weights through a digest check without keeping
// them: the simulated engine needs only to know they are the right bytes.
func fetchWeights(ctx context.Context, r *remote.Repository, desc ocispec.Descriptor) error {
	rc, err := r.Fetch(ctx, desc)
	if err != nil {
		return classify(err)
	}
	defer rc.Close()
	vr := content.NewVerifyReader(rc, desc)
	if _, err := io.Copy(io.Discard, vr); err != nil {
		return classify(err)
	}
	return classify(vr.Verify())
}

// classify sorts an oras error into a verification failure (wrapping
// ErrDigestMismatch) or a transport failure (returned as is), so a cut link
// is never reported as a bad artifact nor a bad artifact as a flaky network.
// Transport failures are those the network or the registry reports: a
// failed round trip or read (*url.Error, net.Error, a body cut short), an
// error status (*errcode.ErrorResponse), content not found, ctx ending.
// What remains is oras refusing what was served: a digest or size mismatch,
// trailing data, or its checks of the Docker-Content-Digest and
// Content-Length headers, which return plain errors.
func classify(err error) error {
	var (
		ue *url.Error
		ne net.Error
		er *errcode.ErrorResponse
	)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, errdef.ErrNotFound),
		errors.As(err, &ue), errors.As(err, &ne), errors.As(err, &er):
		return err
	default:
		return fmt.Errorf("%w: %w", ErrDigestMismatch, err)
	}
}
