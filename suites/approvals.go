package suites

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
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
	opsCheck(status == http.StatusAccepted, "the operator API answered %d to a rollout to the protected pin %s, not 202 (held for approval)", status, digest)
	opsCheck(h.ID != "" && h.State == statePending, "the rollout to the protected pin was answered 202 with id %q and state %q, not pending_approval", h.ID, h.State)
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

// approvalRecordsSince are the operator-visible evidence records after seq that name model and
// digest with no tenant: the records of approvals, not of requests.
func approvalRecordsSince(ctx context.Context, seq uint64, model, digest string) int {
	_, _, key, _ := ops()
	n := 0
	for _, r := range allEvidence(ctx, key) {
		if r.Seq > seq && r.Tenant == "" && r.Model == model && r.ArtifactDigest == digest {
			n++
		}
	}
	return n
}

// describeHeld is a held rollout for messages.
func describeHeld(h heldRollout) string {
	b, _ := json.Marshal(h)
	return string(b)
}
