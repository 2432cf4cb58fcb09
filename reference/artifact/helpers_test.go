package artifact

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	modelfixtures "github.com/aruntime/arcert/fixtures/artifacts"
	"github.com/aruntime/arcert/reference/registry"
)

// testTimeout bounds every wait; generous for -race, never waited on success.
const testTimeout = 30 * time.Second

// testRepo is the repository fixtures are pushed to.
const testRepo = "models/" + modelfixtures.Model

// fixtureDir is the path of a fixture directory from this package.
func fixtureDir(name string) string {
	return filepath.Join("..", "..", "fixtures", "artifacts", filepath.FromSlash(name))
}

// testCtx is a context that ends with the test or after testTimeout.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// startRegistry runs an in-process registry until the test ends and
// returns it with its storage directory.
func startRegistry(t *testing.T) (*registry.Registry, string) {
	t.Helper()
	root := t.TempDir()
	r, err := registry.Start("127.0.0.1:0", root, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("registry Shutdown: %v", err)
		}
	})
	return r, root
}

// push pushes a fixture and returns its digest.
func push(t *testing.T, addr, fixture string) string {
	t.Helper()
	d, err := Push(testCtx(t), addr, testRepo, fixtureDir(fixture))
	if err != nil {
		t.Fatalf("Push %s: %v", fixture, err)
	}
	return d
}

// testPublicKey is the fixtures' TEST-ONLY policy key.
func testPublicKey(t *testing.T) ed25519.PublicKey {
	t.Helper()
	k, err := LoadPublicKey(fixtureDir(modelfixtures.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// strictPolicy requires signatures by the fixtures' key.
func strictPolicy(t *testing.T) Policy {
	return Policy{RequireSignature: true, PublicKey: testPublicKey(t)}
}
