package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aruntime/arcert/reference/artifact"
)

// fakeSource verifies nothing: it answers every digest with an artifact of
// model name, or with err.
type fakeSource struct {
	name string
	err  error
}

func (f fakeSource) Pull(_ context.Context, _, digest string) (artifact.Model, error) {
	if f.err != nil {
		return artifact.Model{}, f.err
	}
	return artifact.Model{Digest: digest, Config: artifact.Config{Name: f.name}}, nil
}

// lyingSource verifies another digest than the one asked for.
type lyingSource struct{}

func (lyingSource) Pull(_ context.Context, model, _ string) (artifact.Model, error) {
	return artifact.Model{Digest: "sha256:" + strings.Repeat("f", 64), Config: artifact.Config{Name: model}}, nil
}

func digestOf(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

func TestApplyRefusesWithoutSourceOrModel(t *testing.T) {
	w := serve(t, testOptions("w1"))
	if err := apply(t, w, "m1", digestOf('a')); !errors.Is(err, ErrNoArtifacts) {
		t.Errorf("Apply without a source = %v, want ErrNoArtifacts", err)
	}
	o := testOptions("w2")
	o.Artifacts = fakeSource{name: "m1"}
	w2 := serve(t, o)
	if err := apply(t, w2, "m3", digestOf('a')); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("Apply of an unserved model = %v, want ErrUnknownModel", err)
	}
	if got := appliedDigest(t, w, "m1"); got != testModel("m1").ArtifactDigest {
		t.Errorf("m1 = %s, want the configured digest", got)
	}
}

// TestApplyChecksWhatTheSourceVerified refuses an artifact the source
// accepted but that is not what was asked for.
func TestApplyChecksWhatTheSourceVerified(t *testing.T) {
	tests := []struct {
		name string
		src  ArtifactSource
		want error
	}{
		{"other model's artifact", fakeSource{name: "m2"}, artifact.ErrInvalid},
		{"other digest", lyingSource{}, artifact.ErrDigestMismatch},
		{"transport error", fakeSource{err: fmt.Errorf("dial: %w", context.DeadlineExceeded)}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions("w1")
			o.Artifacts = tt.src
			w := serve(t, o)
			if err := apply(t, w, "m1", digestOf('a')); !errors.Is(err, tt.want) {
				t.Errorf("Apply = %v, want %v", err, tt.want)
			}
			if got := appliedDigest(t, w, "m1"); got != testModel("m1").ArtifactDigest {
				t.Errorf("m1 = %s, want the configured digest kept", got)
			}
		})
	}
}

// TestApplyConcurrentWithServing applies versions while Versions and
// Generate run; -race checks the digest table, and every digest observed
// must be one that was applied (or the configured one), never a mix.
func TestApplyConcurrentWithServing(t *testing.T) {
	o := testOptions("w1")
	o.Artifacts = fakeSource{name: "m1"}
	w := serve(t, o)
	valid := map[string]bool{testModel("m1").ArtifactDigest: true, digestOf('a'): true, digestOf('b'): true}

	const rounds = 20
	var wg sync.WaitGroup
	errs := make(chan error, 3*rounds)
	wg.Go(func() {
		for i := range rounds {
			if err := w.srv.Apply(t.Context(), "m1", digestOf("ab"[i%2])); err != nil {
				errs <- err
			}
		}
	})
	wg.Go(func() {
		for range rounds {
			d, err := reportedDigest(t.Context(), w, "m1")
			if err == nil && !valid[d] {
				err = fmt.Errorf("versions reported %q, never applied", d)
			}
			if err != nil {
				errs <- err
			}
		}
	})
	wg.Go(func() {
		for range rounds {
			if _, err := generate(t.Context(), w.client, request("acme", "hi", 2)); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := appliedDigest(t, w, "m1"); got != digestOf('b') {
		t.Errorf("after the last Apply, m1 = %s, want %s", got, digestOf('b'))
	}
}
