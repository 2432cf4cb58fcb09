package target

import (
	"strings"
	"testing"
)

// Digests of the protected-pin table: each a distinct role.
const (
	pinD       = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	rolloutD   = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	invalidD   = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	protectedD = "sha256:4444444444444444444444444444444444444444444444444444444444444444"
)

// approvalsTarget declares feature approvals with the protected pin digest needing approvals of
// operator.key and the further keys.
func approvalsTarget(digest string, approvals int, further ...string) *Target {
	return &Target{
		Features: []string{"approvals"},
		Models:   []Model{{Name: "other", ArtifactDigest: protectedD}, {Name: "m", ArtifactDigest: pinD}},
		Operator: &Credential{Key: "op"},
		Operations: &Operations{Model: "m", RolloutDigest: rolloutD,
			InvalidArtifacts: []NamedDigest{{Name: "unsigned", Digest: invalidD}},
			Protected:        &ProtectedPin{Digest: digest, Approvals: approvals, Operators: further}},
	}
}

func TestCheckProtected(t *testing.T) {
	noPin := approvalsTarget(protectedD, 1)
	noPin.Operations.Protected = nil
	cases := []struct {
		name  string
		t     *Target
		field string // "" for no problem
		msg   string
	}{
		{"a distinct digest, enough operators", approvalsTarget(protectedD, 2, "op-2"), "", ""},
		{"another model's pin is no concern", approvalsTarget(protectedD, 1), "", ""},
		{"no protected pin", noPin, "operations.protected", "needs operations.protected"},
		{"the rollout digest", approvalsTarget(rolloutD, 1), "operations.protected.digest", "operations.rollout_digest"},
		{"the model's pin", approvalsTarget(pinD, 1), "operations.protected.digest", "models[1].artifact_digest, the pin of m"},
		{"an invalid artifact", approvalsTarget(invalidD, 1), "operations.protected.digest", "operations.invalid_artifacts[0] (unsigned)"},
		{"too few operators", approvalsTarget(protectedD, 3, "op-2"), "operations.protected.operators", "2 operator credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			probs := c.t.checkProtected()
			if c.field == "" {
				if len(probs) != 0 {
					t.Fatalf("want no problem, got %s: %s", probs[0].Field, probs[0].Msg)
				}
				return
			}
			if len(probs) != 1 || probs[0].Field != c.field || !strings.Contains(probs[0].Msg, c.msg) {
				t.Fatalf("want one problem at %s naming %q, got %d: %+v", c.field, c.msg, len(probs), probs)
			}
		})
	}
	if probs := approvalsTarget(pinD, 1).crossCheck(); len(probs) == 0 {
		t.Error("crossCheck does not run checkProtected")
	}
}
