package worker

import (
	"context"
	"errors"
	"fmt"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/artifact"
)

// ArtifactSource fetches a model's artifact pinned by digest and verifies
// it, refusing a bad one with an error wrapping artifact.ErrInvalid.
// artifact.Source implements it over an OCI registry; it is an interface so
// the worker does not care which registry, and tests can fake it.
type ArtifactSource interface {
	Pull(ctx context.Context, model, digest string) (artifact.Model, error)
}

var _ ArtifactSource = artifact.Source{}

// Apply makes digest the applied artifact of model: it pulls the artifact
// by digest, verifies it and only then switches what Versions reports. On
// any failure the worker keeps serving the version it had, and the error
// wraps artifact.ErrInvalid when the artifact is at fault (outcome
// artifact_invalid) or is the transport error otherwise, so a rollout can
// tell "never apply this" from "try again".
//
// A digest already applied is verified again rather than skipped: at start
// the applied digests are only what the configuration claims, and Apply is
// how they get checked. Calls are serialised so the last one wins. Serving
// limits still come from the configuration; the artifact's config must
// name the model.
func (s *Server) Apply(ctx context.Context, model, digest string) error {
	if s.source == nil {
		return fmt.Errorf("%w: cannot apply %s@%s on worker %s", ErrNoArtifacts, model, digest, s.id)
	}
	if _, ok := s.models[model]; !ok {
		return fmt.Errorf("%w: %q on worker %s", ErrUnknownModel, model, s.id)
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()

	m, err := s.source.Pull(ctx, model, digest)
	if err == nil {
		err = matches(m, model, digest)
	}
	if err != nil {
		reason := outcome.ReasonDependencyUnavailable
		if errors.Is(err, artifact.ErrInvalid) {
			reason = outcome.ReasonArtifactInvalid
		}
		s.log.Warn("artifact refused; keeping the applied version", "model", model, "digest", digest,
			"applied", s.appliedDigest(model), "reason", string(reason), "err", err)
		return fmt.Errorf("worker %s: apply %s@%s: %w", s.id, model, digest, err)
	}

	s.mu.Lock()
	prev := ""
	for i, a := range s.artifacts {
		if a.GetModel() == model {
			prev = a.GetDigest()
			s.artifacts[i] = &arcertv1.Artifact{Model: model, Digest: digest}
		}
	}
	s.mu.Unlock()
	s.log.Info("artifact applied", "model", model, "digest", digest, "previous", prev, "signed", m.Signed)
	return nil
}

// SwitchUnverified reports digest as model's applied version at once, without pulling or verifying
// it, and returns the digest it replaced. It exists only for the harness's negative controls (a
// worker that switches first and verifies afterwards); Apply is the way to change a version.
func (s *Server) SwitchUnverified(model, digest string) (previous string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, a := range s.artifacts {
		if a.GetModel() == model {
			previous = a.GetDigest()
			s.artifacts[i] = &arcertv1.Artifact{Model: model, Digest: digest}
		}
	}
	return previous
}

// matches checks that what the source verified is what was asked for: a
// source that returns another digest, or an artifact of another model, must
// not be applied under this model's name.
func matches(m artifact.Model, model, digest string) error {
	switch {
	case m.Digest != digest:
		return fmt.Errorf("%w: source verified %s, not the requested digest", artifact.ErrDigestMismatch, m.Digest)
	case m.Config.Name != model:
		return fmt.Errorf("%w: artifact is for model %q, not %q", artifact.ErrInvalid, m.Config.Name, model)
	}
	return nil
}

// appliedDigest is the digest Versions reports for model.
func (s *Server) appliedDigest(model string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.artifacts {
		if a.GetModel() == model {
			return a.GetDigest()
		}
	}
	return ""
}
