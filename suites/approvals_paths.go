package suites

import (
	"context"
	"fmt"
	"net/http"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/conformance/target"
)

// separateRollouts proposes the change h holds a second time and has the operator h still lacks
// approve only that second rollout: each keeps its own id and approvals, both stay pending. A
// runtime that pools approvals per model and digest, not per rollout, releases one of them here
// (the caller's watch that no worker leaves the pin sees it).
func separateRollouts(ctx context.Context, model string, pp target.ProtectedPin, h heldRollout) {
	GinkgoHelper()
	approvers := env.Target.Approvers()
	last := pp.Approvals - 1
	b := propose(ctx, model, pp.Digest)
	opsCheck(b.ID != h.ID, "proposing the same change again was answered with the id %s of the rollout already held; each proposal is its own rollout", b.ID)
	var got heldRollout
	status, reason := approveAs(ctx, b.ID, approvers[last], &got)
	opsCheck(status == http.StatusOK && got.State == statePending && len(got.Approvals) == 1,
		"operator %d approving a second rollout %s of the same change was answered %d (%s) with %s; want 200, pending_approval with that one approval", last+1, b.ID, status, reason, describeHeld(got))
	a := heldState(ctx, h.ID)
	opsCheck(a.ID == h.ID && a.State == statePending && len(a.Approvals) == last,
		"after operator %d approved only rollout %s, rollout %s is %s; want pending_approval with its own %d approvals", last+1, b.ID, h.ID, describeHeld(a), last)
	judged("separate-rollouts", 1)
}

// sameOperatorKey has the target's second key of operator.key's operator approve h, which that
// operator has already approved: refused or answered, it must not count. A runtime that counts
// credentials rather than operators releases the rollout here.
func sameOperatorKey(ctx context.Context, pp target.ProtectedPin, h heldRollout) {
	GinkgoHelper()
	if pp.SameOperatorKey == "" {
		notProbed("same-operator-key", "the target declares no operations.protected.same_operator_key (a second key of operator.key's operator)")
		return
	}
	var got heldRollout
	status, reason := approveAs(ctx, h.ID, pp.SameOperatorKey, &got)
	opsCheck(status/100 == 4 || status == http.StatusOK && got.State == statePending && len(got.Approvals) == pp.Approvals-1,
		"a second key of operator 1 approving rollout %s was answered %d (%s) with %s; want a refusal, or 200 still pending_approval with %d approvals", h.ID, status, reason, describeHeld(got), pp.Approvals-1)
	a := heldState(ctx, h.ID)
	opsCheck(a.State == statePending && len(a.Approvals) == pp.Approvals-1,
		"after a second key of operator 1 approved, rollout %s is %s; want pending_approval with %d approvals: one operator, one approval", h.ID, describeHeld(a), pp.Approvals-1)
	judged("same-operator-key", 1)
}

// heldOtherWays moves model back to pin (no approval needed) and then tries the two other ways
// to the protected digest: a rollback to the latest revision that names it and a rollout
// document sending canaryWeight percent of workers to it. Each must be held, and no worker may
// leave pin within the declared convergence. It describes what it saw.
func heldOtherWays(ctx context.Context, model, pin, digest string) string {
	GinkgoHelper()
	setDigest(ctx, model, pin)
	allOn(ctx, model, pin)
	rev := latestRevision(ctx, model, digest)
	rb := proposeRollback(ctx, model, rev)
	judged("rollback", 1)
	c := proposeCanary(ctx, model, pin, digest)
	judged("canary", 1)
	opsCheck(rb.ID != c.ID, "the held rollback and the held canary have the same id %s", c.ID)
	neverLeaves(ctx, "after the held rollback and canary", model, pin)
	return fmt.Sprintf("back on the pin, a rollback to revision %d (held as %s) and a %d%% canary (held as %s) to %s were held with no worker leaving the pin",
		rev, rb.ID, canaryWeight, c.ID, digest)
}
