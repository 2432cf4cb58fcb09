package runtime

import (
	"context"
	"fmt"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/control"
)

// controlOptions gives the operator API the configuration's protected pins, the evidence chain
// for approvals, and the approval negative controls.
func (rt *Runtime) controlOptions() control.Options {
	p := control.Protection{}
	for _, m := range rt.cfg.Models {
		for _, pin := range m.ProtectedPins {
			if p[m.Name] == nil {
				p[m.Name] = map[string]int{}
			}
			p[m.Name][pin.Digest] = pin.Approvals
		}
	}
	return control.Options{Protection: p, OnApproval: rt.recordApproval, Defects: rt.opts.Defects.Operations.Approvals}
}

// approvalEvidenceTimeout bounds the append of one approval's evidence record, which runs on
// after the approving request's context ends.
const approvalEvidenceTimeout = 10 * time.Second

// recordApproval appends one approval of a held rollout, or its release, to the evidence chain:
// the operator's name as the user, the protected digest as the artifact, and how many of how many
// approvals stood, so an auditor reads who released a protected version and on whose word.
func (rt *Runtime) recordApproval(ctx context.Context, ev control.ApprovalEvent) {
	r := ev.Rollout
	what := fmt.Sprintf("approval %d of %d of rollout %s (%s/%s)", len(r.Approvals), r.Required, r.ID, r.Bucket, r.Key)
	id := fmt.Sprintf("approval-%s-%d", r.ID, len(r.Approvals))
	if ev.Applied {
		what += fmt.Sprintf("; applied as revision %d", r.AppliedRevision)
	}
	rt.log.Info("rollout approval", "rollout", r.ID, "by", ev.By, "approvals", len(r.Approvals), "required", r.Required, "applied", ev.Applied)
	if rt.evidence == nil || rt.opts.Defects.Operations.Approvals.NoEvidence {
		return
	}
	rec := discovery.Record{
		RequestID: id, Time: time.Now().UTC(), User: ev.By, ClientUser: what,
		Model: r.Key, Deployment: rt.cfg.Runtime.Deployment, ArtifactDigest: r.Digest, PolicyVersion: rt.cfg.Runtime.PolicyVersion,
		Outcome: outcome.Completed, Reason: outcome.ReasonNone,
	}
	// The approval is already counted in the bucket: a client that hangs up now must not leave
	// it without its record, so the append outlives the request (bounded on its own).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), approvalEvidenceTimeout)
	defer cancel()
	if _, err := rt.evidence.Append(ctx, rec); err != nil {
		rt.log.Error("evidence of a rollout approval not written", "rollout", r.ID, "err", err)
	}
}
