package artifact

import (
	"bytes"
	"context"
	"fmt"
	"net"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/registry/remote"
)

// Push packs dir and pushes it to repo on the registry at registryAddr
// (host:port), returning the manifest digest to pin. The manifest is pushed
// by digest and left untagged: the digest is the only name workers use, and
// a tag would only invite pulling by something that can move.
func Push(ctx context.Context, registryAddr, repo, dir string) (string, error) {
	p, err := Pack(dir)
	if err != nil {
		return "", err
	}
	return PushPacked(ctx, registryAddr, repo, p)
}

// PushPacked pushes an already packed artifact; see Push.
func PushPacked(ctx context.Context, registryAddr, repo string, p *Packed) (string, error) {
	dst, err := repository(registryAddr, repo, false)
	if err != nil {
		return "", err
	}
	// Stage the blobs in memory so oras.CopyGraph can push the graph the
	// way it pushes any other: blobs first, skipping those the registry
	// already has, then the manifest that references them.
	src := memory.New()
	if err := stage(ctx, src, p); err != nil {
		return "", err
	}
	if err := oras.CopyGraph(ctx, src, dst, p.ManifestDesc, oras.DefaultCopyGraphOptions); err != nil {
		return "", fmt.Errorf("artifact: push %s/%s: %w", registryAddr, repo, err)
	}
	return p.Digest(), nil
}

// stage puts p's blobs and manifest into the memory store.
func stage(ctx context.Context, st *memory.Store, p *Packed) error {
	for _, b := range []struct {
		data []byte
		desc ocispec.Descriptor
	}{
		{p.Config, p.ConfigDesc},
		{p.Weights, p.WeightsDesc},
		{p.Manifest, p.ManifestDesc},
	} {
		if err := st.Push(ctx, b.desc, bytes.NewReader(b.data)); err != nil {
			return fmt.Errorf("artifact: stage %s: %w", b.desc.Digest, err)
		}
	}
	return nil
}

// repository is the oras client for repo on registryAddr. Loopback
// registries (the in-process default) are spoken to over plain HTTP; any
// other registry over TLS, as production registries are.
func repository(registryAddr, repo string, plainHTTP bool) (*remote.Repository, error) {
	r, err := remote.NewRepository(registryAddr + "/" + repo)
	if err != nil {
		return nil, fmt.Errorf("artifact: repository %s/%s: %w", registryAddr, repo, err)
	}
	r.PlainHTTP = plainHTTP || isLoopback(registryAddr)
	return r, nil
}

// isLoopback reports whether addr's host is a loopback name or address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
