package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"oras.land/oras-go/v2/errdef"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	modelfixtures "github.com/aruntime/arcert/fixtures/artifacts"
	"github.com/aruntime/arcert/reference/artifact"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/registry"
)

// artifactModel is the model the artifact fixtures describe; the test
// worker serves it in place of m1.
const artifactModel = modelfixtures.Model

// fixtures is the artifact fixtures directory from this package.
var fixtures = filepath.Join("..", "..", "fixtures", "artifacts")

// artifactWorker serves artifactModel and m2, pulling artifacts from a
// fresh in-process registry with the fixtures' signature policy, and returns
// the digest of every fixture pushed there.
func artifactWorker(t *testing.T) (*served, map[string]string) {
	t.Helper()
	reg, err := registry.Start("127.0.0.1:0", t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := reg.Shutdown(ctx); err != nil {
			t.Errorf("registry Shutdown: %v", err)
		}
	})
	key, err := artifact.LoadPublicKey(filepath.Join(fixtures, modelfixtures.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	digests := map[string]string{}
	for _, name := range []string{modelfixtures.ValidV1, modelfixtures.ValidV2, modelfixtures.MalformedConfig,
		modelfixtures.Unsigned, modelfixtures.WronglySigned} {
		ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
		d, err := artifact.Push(ctx, reg.Addr(), "models/"+artifactModel, filepath.Join(fixtures, name))
		cancel()
		if err != nil {
			t.Fatalf("push %s: %v", name, err)
		}
		digests[name] = d
	}
	o := testOptions("w1")
	o.Models = append([]config.Model(nil), o.Models...)
	o.Models[0] = testModel(artifactModel)
	o.Worker.Models = []string{artifactModel, "m2"}
	o.Artifacts = artifact.Source{
		Registry:   reg.Addr(),
		RepoPrefix: "models/",
		Policy:     artifact.Policy{RequireSignature: true, PublicKey: key},
	}
	return serve(t, o), digests
}

// appliedDigest asks the worker over gRPC which digest it reports for model.
func appliedDigest(t *testing.T, w *served, model string) string {
	t.Helper()
	d, err := reportedDigest(t.Context(), w, model)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// reportedDigest is appliedDigest for goroutines other than the test's.
func reportedDigest(ctx context.Context, w *served, model string) (string, error) {
	v, err := w.client.Versions(authed(ctx, testToken), &arcertv1.VersionsRequest{})
	if err != nil {
		return "", err
	}
	for _, a := range v.GetArtifacts() {
		if a.GetModel() == model {
			return a.GetDigest(), nil
		}
	}
	return "", fmt.Errorf("versions does not report model %s: %v", model, v.GetArtifacts())
}

// apply calls Apply with a bounded context.
func apply(t *testing.T, w *served, model, digest string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	return w.srv.Apply(ctx, model, digest)
}

func TestApplySwitchesAppliedDigest(t *testing.T) {
	w, digests := artifactWorker(t)
	if got, want := appliedDigest(t, w, artifactModel), testModel(artifactModel).ArtifactDigest; got != want {
		t.Fatalf("before Apply, Versions = %s, want the configured %s", got, want)
	}
	for _, name := range []string{modelfixtures.ValidV1, modelfixtures.ValidV2, modelfixtures.ValidV1} {
		if err := apply(t, w, artifactModel, digests[name]); err != nil {
			t.Fatalf("Apply %s: %v", name, err)
		}
		if got := appliedDigest(t, w, artifactModel); got != digests[name] {
			t.Errorf("after Apply %s, Versions = %s, want %s", name, got, digests[name])
		}
	}
	if got, want := appliedDigest(t, w, "m2"), testModel("m2").ArtifactDigest; got != want {
		t.Errorf("m2 = %s, want it untouched at %s", got, want)
	}
	req := request("acme", "hello", 4)
	req.Model = artifactModel
	mustGenerate(t, w.client, req)
}

// TestApplyRefusalKeepsServing applies a valid version, then each invalid
// fixture and an unreachable digest: every one is refused with its kind of
// error, the valid version stays applied and requests keep being served.
func TestApplyRefusalKeepsServing(t *testing.T) {
	w, digests := artifactWorker(t)
	good := digests[modelfixtures.ValidV1]
	if err := apply(t, w, artifactModel, good); err != nil {
		t.Fatal(err)
	}
	absent := "sha256:" + strings.Repeat("0", 64)
	tests := []struct {
		name, digest string
		want         error
		invalid      bool
	}{
		{modelfixtures.MalformedConfig, digests[modelfixtures.MalformedConfig], artifact.ErrMalformed, true},
		{modelfixtures.Unsigned, digests[modelfixtures.Unsigned], artifact.ErrUnsigned, true},
		{modelfixtures.WronglySigned, digests[modelfixtures.WronglySigned], artifact.ErrBadSignature, true},
		{"tag instead of digest", "latest", artifact.ErrNotPinned, true},
		{"never pushed", absent, errdef.ErrNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := apply(t, w, artifactModel, tt.digest)
			if !errors.Is(err, tt.want) || errors.Is(err, artifact.ErrInvalid) != tt.invalid {
				t.Fatalf("Apply = %v, want %v (ErrInvalid: %v)", err, tt.want, tt.invalid)
			}
			if got := appliedDigest(t, w, artifactModel); got != good {
				t.Errorf("after a refused Apply, Versions = %s, want the kept %s", got, good)
			}
			req := request("acme", "still serving", 4)
			req.Model = artifactModel
			mustGenerate(t, w.client, req)
		})
	}
}
