package target

import (
	"fmt"

	"github.com/aruntime/arcert/internal/yamlschema"
)

// ProtectedPin is a digest of the operations model that a rollout may reach only once Approvals
// distinct operators approved it (arcert operator contract v1). Every change that would move the
// model to Digest is held and answered 202 with {"id", "state": "pending_approval", "required",
// "approvals": []}: PUT {Control}models/{model} {"artifact_digest": Digest}, POST
// {Control}models/{model}/rollback {"revision": N} to a revision naming Digest, and PUT
// {Control}rollout/{model} {"from_digest", "to_digest": Digest, "weight" > 0, "version"}. Each
// proposal is its own rollout with its own id and approvals. POST {Control}rollouts/{id}/approvals
// (an empty body or {}) approves it as the caller, answered 200 with the same body ("state":
// "applied" once enough distinct operators have approved it) or 403 for a credential that is not
// an operator's. Each approval counted is appended to the evidence chain as a record with no
// tenant, the model, Digest as artifact_digest and the approving operator as user; further such
// records (the release, say) are allowed if they too name an operator, never one naming nobody.
// Optional: DELETE {Control}rollouts/{id} withdraws a pending rollout; the specs call it at their
// end on each rollout they proposed and did not apply, ignoring the answer.
type ProtectedPin struct {
	// Digest is a valid artifact of the model other than its pin, the rollout digest and every
	// invalid artifact.
	Digest string `yaml:"digest"`
	// Approvals is how many distinct operators must approve a rollout to Digest; APR-1 probes the
	// partial approvals only when it is 2 or more, and APR-3 is INCONCLUSIVE below 2.
	Approvals int `yaml:"approvals"`
	// Operators are further operator credentials, each a distinct operator: with operator.key
	// they must number at least Approvals.
	Operators []string `yaml:"operators"`
	// SameOperatorKey is a second credential of operator.key's operator (optional): APR-1 has it
	// approve after that operator did and requires the approval not to count.
	SameOperatorKey string `yaml:"same_operator_key"`
}

// Approvers is every operator credential the target gives, operator.key first.
func (t *Target) Approvers() []string {
	var out []string
	if t.Operator != nil {
		out = append(out, t.Operator.Key)
	}
	if t.Operations != nil && t.Operations.Protected != nil {
		out = append(out, t.Operations.Protected.Operators...)
	}
	return out
}

// checkProtected: feature approvals needs a protected pin that differs from the model's pin, from
// the digest the other operations specs roll to and from the artifacts every worker refuses, and
// enough distinct operator credentials to approve it.
func (t *Target) checkProtected() []*yamlschema.Problem {
	o := t.Operations
	if !t.Declares("approvals") {
		return nil
	}
	if o == nil || o.Protected == nil || t.Operator == nil {
		return []*yamlschema.Problem{{Field: "operations.protected", Msg: "feature approvals needs operations.protected (the protected pin) and the operator credential"}}
	}
	var probs []*yamlschema.Problem
	same := func(what string) {
		probs = append(probs, &yamlschema.Problem{Field: "operations.protected.digest", Msg: "equals " + what})
	}
	d := o.Protected.Digest
	if d == o.RolloutDigest {
		same("operations.rollout_digest, which the rollout specs roll to without approval")
	}
	for i, m := range t.Models {
		if m.Name == o.Model && d == m.ArtifactDigest {
			same(fmt.Sprintf("models[%d].artifact_digest, the pin of %s: a rollout to where the model already is releases nothing", i, m.Name))
		}
	}
	for i, a := range o.InvalidArtifacts {
		if d == a.Digest {
			same(fmt.Sprintf("operations.invalid_artifacts[%d] (%s), which every worker refuses: an approved rollout to it could never be served", i, a.Name))
		}
	}
	if n := len(t.Approvers()); n < o.Protected.Approvals {
		probs = append(probs, &yamlschema.Problem{Field: "operations.protected.operators",
			Msg: fmt.Sprintf("%d operator credentials (operator.key and these) for %d approvals: the rule could never be met", n, o.Protected.Approvals)})
	}
	return probs
}
