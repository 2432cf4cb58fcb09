package artifact

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	modelfixtures "github.com/aruntime/arcert/fixtures/artifacts"
)

// blobPath is where distribution's filesystem driver keeps a blob's bytes.
func blobPath(root string, d digest.Digest) string {
	return filepath.Join(root, "docker", "registry", "v2", "blobs",
		d.Algorithm().String(), d.Encoded()[:2], d.Encoded(), "data")
}

// TestPullRefusesCorruptedBlob pushes a valid artifact, then changes one
// byte of a blob in the registry's storage (same size, so only the hash can
// tell): pulling the pinned digest must refuse what is now served.
func TestPullRefusesCorruptedBlob(t *testing.T) {
	p, err := Pack(fixtureDir(modelfixtures.ValidV1))
	if err != nil {
		t.Fatal(err)
	}
	for _, blob := range []struct {
		name string
		d    digest.Digest
	}{{"config", p.ConfigDesc.Digest}, {"weights", p.WeightsDesc.Digest}} {
		t.Run(blob.name, func(t *testing.T) {
			reg, root := startRegistry(t)
			d := push(t, reg.Addr(), modelfixtures.ValidV1)
			if _, err := Pull(testCtx(t), reg.Addr(), testRepo, d, strictPolicy(t)); err != nil {
				t.Fatalf("Pull before corruption: %v", err)
			}
			path := blobPath(root, blob.d)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 0x01 // in the weights, or a digit of the config: same length
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = Pull(testCtx(t), reg.Addr(), testRepo, d, strictPolicy(t))
			if !errors.Is(err, ErrDigestMismatch) {
				t.Fatalf("Pull after corruption = %v, want ErrDigestMismatch", err)
			}
			if !strings.Contains(err.Error(), blob.d.String()) {
				t.Errorf("error %q does not name the corrupted blob %s", err, blob.d)
			}
		})
	}
}

// swappedHeader marks a proxied request whose manifest was swapped.
const swappedHeader = "X-Test-Swapped"

// TestPullRefusesManifestOfAnotherDigest puts a proxy in front of the
// registry that answers a request for valid-v1's manifest with valid-v2's:
// once with the registry's (truthful) digest header, once with a header that
// lies and claims the requested digest. Both must be refused.
func TestPullRefusesManifestOfAnotherDigest(t *testing.T) {
	reg, _ := startRegistry(t)
	v1 := push(t, reg.Addr(), modelfixtures.ValidV1)
	v2 := push(t, reg.Addr(), modelfixtures.ValidV2)
	for _, tt := range []struct {
		name    string
		lie     bool
		mention string // which check caught it: oras's header check, or our own hash
	}{{"honest header", false, "Docker-Content-Digest"}, {"lying header", true, "hashes to " + v2}} {
		t.Run(tt.name, func(t *testing.T) {
			proxy := &httputil.ReverseProxy{
				Rewrite: func(r *httputil.ProxyRequest) {
					r.SetURL(&url.URL{Scheme: "http", Host: reg.Addr()})
					if swapped := strings.Replace(r.Out.URL.Path, "/manifests/"+v1, "/manifests/"+v2, 1); swapped != r.Out.URL.Path {
						r.Out.URL.Path = swapped
						r.Out.Header.Set(swappedHeader, "1")
					}
				},
				ModifyResponse: func(resp *http.Response) error {
					if tt.lie && resp.Request.Header.Get(swappedHeader) != "" {
						resp.Header.Set("Docker-Content-Digest", v1)
					}
					return nil
				},
			}
			srv := httptest.NewServer(proxy)
			t.Cleanup(srv.Close)
			addr := strings.TrimPrefix(srv.URL, "http://")

			_, err := Pull(testCtx(t), addr, testRepo, v1, strictPolicy(t))
			if !errors.Is(err, ErrDigestMismatch) {
				t.Fatalf("Pull(%s) served %s = %v, want ErrDigestMismatch", v1, v2, err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			// The proxy is otherwise transparent: v2 pulls through it.
			if _, err := Pull(testCtx(t), addr, testRepo, v2, strictPolicy(t)); err != nil {
				t.Errorf("Pull(%s) through the proxy = %v", v2, err)
			}
		})
	}
}
