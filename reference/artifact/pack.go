package artifact

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Files of an artifact directory, the input of Pack.
const (
	ConfigFile  = "config.json"
	WeightsFile = "weights.bin"
	// SigningKeyFile, when present, is the ed25519 private key (PKCS#8 PEM)
	// Pack signs with; without it the artifact is unsigned.
	SigningKeyFile = "signing.key"
)

// Packed is an artifact ready to push: its three blobs and their
// descriptors. Packing is deterministic (no timestamps, fixed field order),
// so the same directory always has the same manifest digest, which is what
// lets configurations and fixtures pin it.
type Packed struct {
	Manifest, Config, Weights []byte
	ManifestDesc, ConfigDesc  ocispec.Descriptor
	WeightsDesc               ocispec.Descriptor
}

// Digest is the manifest digest, the artifact's identity.
func (p *Packed) Digest() string { return p.ManifestDesc.Digest.String() }

// Pack builds the artifact in dir: config.json as the config blob,
// weights.bin as the one layer, signed when signing.key is present. It does
// not validate the config (ParseConfig does), because refusing bad configs
// is the puller's job and the negative fixtures must be packable.
func Pack(dir string) (*Packed, error) {
	cfg, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPack, err)
	}
	weights, err := os.ReadFile(filepath.Join(dir, WeightsFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPack, err)
	}
	p := &Packed{
		Config:      cfg,
		Weights:     weights,
		ConfigDesc:  descriptor(MediaTypeConfig, cfg),
		WeightsDesc: descriptor(MediaTypeWeights, weights),
	}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: MediaTypeConfig,
		Config:       p.ConfigDesc,
		Layers:       []ocispec.Descriptor{p.WeightsDesc},
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, SigningKeyFile))
	switch {
	case err == nil:
		key, err := ParsePrivateKeyPEM(keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrPack, SigningKeyFile, err)
		}
		m.Annotations = map[string]string{
			AnnotationSignature: sign(key, p.ConfigDesc.Digest, p.WeightsDesc.Digest),
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: %w", ErrPack, err)
	}
	if p.Manifest, err = json.Marshal(m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %w", ErrPack, err)
	}
	p.ManifestDesc = descriptor(ocispec.MediaTypeImageManifest, p.Manifest)
	// Like oras.PackManifest, mirror the manifest's artifactType and
	// annotations on its descriptor, for callers that list artifacts.
	p.ManifestDesc.ArtifactType = MediaTypeConfig
	p.ManifestDesc.Annotations = m.Annotations
	return p, nil
}

// descriptor describes data as a blob of mediaType.
func descriptor(mediaType string, data []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
}
