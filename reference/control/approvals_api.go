package control

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/identity"
)

// approvalsPattern is the approval endpoint under PathPrefix.
const approvalsPattern = "rollouts/{id}/approvals"

// ApprovalEvent is one step of a held rollout the evidence chain records: an approval counted
// (Applied false) or the approval that released it (Applied true).
type ApprovalEvent struct {
	Rollout HeldRollout
	// By names who approved: the operator's name.
	By      string
	Applied bool
}

// isApproval reports whether req is a call of the approval endpoint.
func isApproval(req *http.Request) bool {
	rest, ok := strings.CutPrefix(req.URL.Path, PathPrefix+"rollouts/")
	return ok && req.Method == http.MethodPost && strings.HasSuffix(rest, "/approvals")
}

// movesTo is the digest a document moves its model to: a model document's artifact, a rollout's
// new digest while any weight goes to it; empty for other buckets and for what does not decode
// (Put refuses that with the field named).
func movesTo(bucket string, raw []byte) string {
	doc, err := Decode(bucket, raw)
	if err != nil {
		return ""
	}
	switch d := doc.(type) {
	case ModelDoc:
		return d.ArtifactDigest
	case RolloutDoc:
		if d.Weight > 0 {
			return d.ToDigest
		}
	}
	return ""
}

// held holds a document that moves key to a protected digest it is not on yet, answering 202
// with the held rollout; it reports whether it answered.
func (a *api) held(ctx context.Context, w http.ResponseWriter, req *http.Request, bucket, key string, body []byte) bool {
	d := a.opts.Defects
	if d.ApplyAtOnce || d.HoldOnlyPuts && (req.Method != http.MethodPut || bucket != BucketModels) || d.CanaryNotHeld && bucket == BucketRollout {
		return false
	}
	digest := movesTo(bucket, body)
	required := a.opts.Protection.Required(key, digest)
	if required == 0 {
		return false
	}
	if cur, err := a.store.Get(ctx, BucketModels, key); err == nil && movesTo(BucketModels, cur.Value) == digest {
		return false // already there: nothing is released
	}
	r, err := a.store.Hold(ctx, bucket, key, digest, body, required, principalOf(req).Operator)
	if err != nil {
		storeError(w, err)
		return true
	}
	w.Header().Set("Location", PathPrefix+"rollouts/"+r.ID)
	setOutcome(w.Header(), outcome.ReasonNone)
	writeJSON(w, http.StatusAccepted, r)
	return true
}

// heldRollout answers GET rollouts/{id}.
func (a *api) heldRollout(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := withTimeout(req)
	defer cancel()
	r, err := a.store.HeldRollout(ctx, req.PathValue("id"))
	if err != nil {
		storeError(w, err)
		return
	}
	ok(w, r)
}

// approve answers POST rollouts/{id}/approvals: the caller's approval, counted once per
// operator, and the rollout applied once enough have approved. The body is empty or {}.
func (a *api) approve(w http.ResponseWriter, req *http.Request) {
	body, good := readBody(w, req)
	if !good {
		return
	}
	if msg, field := approvalBodyProblem(body); msg != "" {
		refuse(w, http.StatusBadRequest, outcome.ReasonInvalidRequest, msg, field)
		return
	}
	ctx, cancel := withTimeout(req)
	defer cancel()
	by := approverName(principalOf(req))
	if a.opts.Defects.CountByKey {
		sum := sha256.Sum256([]byte(req.Header.Get("Authorization")))
		by += " key " + hex.EncodeToString(sum[:4])
	}
	r, added, applied, err := a.store.Approve(ctx, req.PathValue("id"), by, a.opts.Defects.CountRepeats)
	if err != nil {
		storeError(w, err)
		return
	}
	if a.opts.OnApproval != nil && added {
		a.opts.OnApproval(ctx, ApprovalEvent{Rollout: r, By: by, Applied: applied})
	}
	ok(w, r)
}

// approvalBodyProblem says what is wrong with an approval's body, and in which field, or "" if
// nothing: an approval carries nothing but the caller's word, so a body that says more
// ({"approve": false}) or is not JSON is refused rather than counted as a yes.
func approvalBodyProblem(body []byte) (msg, field string) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return "", ""
	}
	const want = "the body of an approval is empty or {}"
	if trimmed[0] != '{' {
		return fmt.Sprintf("%s, not %.40q", want, trimmed), ""
	}
	if err := decodeStrict(trimmed, &struct{}{}); err != nil {
		fe := fieldError("approval", err)
		if fe.Field != "" {
			return fmt.Sprintf("%s: field %q is not part of it", want, fe.Field), fe.Field
		}
		return want + ": " + fe.Problem, ""
	}
	return "", ""
}

// withdraw answers DELETE rollouts/{id}: the calling operator withdraws a pending rollout.
func (a *api) withdraw(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := withTimeout(req)
	defer cancel()
	r, err := a.store.Withdraw(ctx, req.PathValue("id"), principalOf(req).Operator)
	if err != nil {
		storeError(w, err)
		return
	}
	ok(w, r)
}

// principalOf is the principal operatorOnly authenticated.
func principalOf(req *http.Request) identity.Principal {
	p, _ := req.Context().Value(principalKey{}).(identity.Principal)
	return p
}

// approverName is what an approval records: the operator's name; under the tenant-can-approve
// negative control, a tenant's or the workload's role and name.
func approverName(p identity.Principal) string {
	switch p.Role {
	case identity.RoleOperator:
		return p.Operator
	case identity.RoleTenant:
		return "tenant:" + p.Tenant + "/" + p.User
	}
	return string(p.Role)
}
