package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/target"
)

// heldRollout is the operator contract's answer about a rollout to a protected pin.
type heldRollout struct {
	ID        string `json:"id"`
	State     string `json:"state"`
	Required  int    `json:"required"`
	Approvals []struct {
		Operator string `json:"operator"`
	} `json:"approvals"`
}

// The states of a held rollout, as the contract spells them.
const (
	statePending = "pending_approval"
	stateApplied = "applied"
)

// protectedPin is the target's protected pin and its operations model, checked declared.
func protectedPin() (model string, p target.ProtectedPin) {
	_, model, _, _ = ops()
	pp := env.Target.Operations.Protected
	Expect(pp).NotTo(BeNil(), "the target declares approvals without operations.protected")
	return model, *pp
}

// propose rolls model to the protected digest as the operator and requires it to be held.
func propose(ctx context.Context, model, digest string) heldRollout {
	control, _, _, _ := ops()
	var h heldRollout
	status := operator(ctx, http.MethodPut, control+"models/"+model, map[string]string{"artifact_digest": digest}, &h)
	return requireHeld("a rollout to the protected pin "+digest, status, h)
}

// proposeRollback rolls model back to revision, whose document names the protected digest, and
// requires it to be held: a rollback releases a version as much as a PUT does.
func proposeRollback(ctx context.Context, model string, revision uint64) heldRollout {
	control, _, _, _ := ops()
	var h heldRollout
	status := operator(ctx, http.MethodPost, control+"models/"+model+"/rollback", map[string]uint64{"revision": revision}, &h)
	return requireHeld(fmt.Sprintf("a rollback to revision %d, which names the protected pin", revision), status, h)
}

// canaryWeight is the share of workers the held canary would move: enough that a runtime which
// applies it moves some of them.
const canaryWeight = 50

// proposeCanary writes a rollout document sending canaryWeight percent of workers from pin to the
// protected digest, and requires it to be held.
func proposeCanary(ctx context.Context, model, pin, digest string) heldRollout {
	control, _, _, _ := ops()
	var h heldRollout
	doc := map[string]any{"from_digest": pin, "to_digest": digest, "weight": canaryWeight, "version": "arcert-apr-canary"}
	status := operator(ctx, http.MethodPut, control+"rollout/"+model, doc, &h)
	return requireHeld(fmt.Sprintf("a rollout document with weight %d to the protected pin %s", canaryWeight, digest), status, h)
}

// withdrawAtEnd withdraws the held rollout id when the spec ends (DELETE {control}rollouts/{id}),
// so no half-approved rollout outlives the spec that made it. It is best effort: withdrawal is
// optional in the contract, and a rollout the spec applied cannot be withdrawn.
func withdrawAtEnd(id string) {
	control, _, key, _ := ops()
	DeferCleanup(func(ctx SpecContext) {
		_, _, _ = env.HTTP.JSON(ctx, http.MethodDelete, control+"rollouts/"+id, key, nil, nil, nil)
	})
}

// requireHeld checks the answer to what, a change that would release the protected pin: 202 with
// a fresh held rollout, pending and approved by nobody yet.
func requireHeld(what string, status int, h heldRollout) heldRollout {
	GinkgoHelper()
	opsCheck(status == http.StatusAccepted, "the operator API answered %d to %s, not 202 (held for approval)", status, what)
	opsCheck(h.ID != "" && h.State == statePending, "%s was answered 202 with id %q and state %q, not pending_approval", what, h.ID, h.State)
	withdrawAtEnd(h.ID)
	opsCheck(h.Approvals != nil && len(h.Approvals) == 0, "%s was answered %s; a fresh proposal has no approvals yet (\"approvals\": [])", what, describeHeld(h))
	return h
}

// approveAs calls the approval endpoint of rollout id with key; out, if not nil, is filled on a
// 2xx answer.
func approveAs(ctx context.Context, id, key string, out *heldRollout) (int, outcome.Reason) {
	control, _, _, _ := ops()
	if out == nil {
		out = &heldRollout{}
	}
	status, hdr, err := env.HTTP.JSON(ctx, http.MethodPost, control+"rollouts/"+id+"/approvals", key, []byte("{}"), nil, out)
	Expect(err).NotTo(HaveOccurred(), "approving rollout %s", id)
	return status, outcome.Reason(hdr.Get(outcome.HeaderReason))
}

// heldState reads rollout id as the operator.
func heldState(ctx context.Context, id string) heldRollout {
	control, _, _, _ := ops()
	var h heldRollout
	status := operator(ctx, http.MethodGet, control+"rollouts/"+id, nil, &h)
	opsCheck(status == http.StatusOK, "reading held rollout %s was answered %d", id, status)
	return h
}

// stillOnPin checks, at stage, that every worker still reports pin for model and that every
// tenant is served on it on every client path, as the evidence of each request says.
func stillOnPin(ctx context.Context, r *rand.Rand, id, stage, model, pin string) int {
	GinkgoHelper()
	got := workerDigests(ctx, model)
	for _, w := range got {
		opsCheck(strings.HasSuffix(w, "="+pin), "%s: a worker left the pin %s before the rollout was approved: %s", stage, pin, strings.Join(got, ", "))
	}
	samples := serveEveryPath(ctx, r, stage)
	judgeServedDigests(ctx, id, stage, model, pin, samples)
	return len(samples)
}

// neverLeaves watches, for the declared convergence (the time any worker is given to apply a
// change), that no worker leaves pin: a release made at any earlier step shows within it.
func neverLeaves(ctx context.Context, stage, model, pin string) {
	GinkgoHelper()
	_, _, _, convergence := ops()
	var got []string
	left := opsPoll(ctx, convergence, 100*time.Millisecond, func() bool {
		got = workerDigests(ctx, model)
		for _, w := range got {
			if !strings.HasSuffix(w, "="+pin) {
				return true
			}
		}
		return false
	})
	opsCheck(!left, "%s: within the declared convergence of %s a worker left the pin %s though the rollout was not approved: %s", stage, convergence, pin, strings.Join(got, ", "))
}

// approvalRecordsSince reads the operator-visible evidence records after seq that name model and
// digest with no tenant (the records of approvals, not of requests): the distinct users they
// name, and how many name no user at all (an approval by nobody).
func approvalRecordsSince(ctx context.Context, seq uint64, model, digest string) (users []string, nameless int) {
	_, _, key, _ := ops()
	for _, r := range allEvidence(ctx, key) {
		if r.Seq <= seq || r.Tenant != "" || r.Model != model || r.ArtifactDigest != digest {
			continue
		}
		switch {
		case r.User == "":
			nameless++
		case !slices.Contains(users, r.User):
			users = append(users, r.User)
		}
	}
	return users, nameless
}

// describeHeld is a held rollout for messages.
func describeHeld(h heldRollout) string {
	b, _ := json.Marshal(h)
	return string(b)
}
