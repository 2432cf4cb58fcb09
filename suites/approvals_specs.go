package suites

import (
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/outcome"
)

var _ = Describe("Approval of protected rollouts", func() {
	// Held after the proposal, after one short of the required approvals, and after the last of
	// those operators approves again: a runtime that counts approvals rather than operators, or
	// applies first and asks later, leaves the pin at one of these steps. A second proposal of
	// the same change, approved by the operator the first still lacks, must not lend that approval
	// to the first; and a rollback to the protected revision or a canary to the protected digest
	// must be held as the PUT was.
	It("holds a rollout to a protected pin until the required distinct operators approve it", Req("APR-1"), func(ctx SpecContext) {
		model, pp := protectedPin()
		pin, approvers := pinned(model), env.Target.Approvers()
		_, _, key, convergence := ops()
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, model, pin); allOn(ctx, model, pin) })
		allOn(ctx, model, pin)
		explainClientPaths(false)
		r := rng(0xa9a)
		mark := evidenceTail(ctx, key)

		h := propose(ctx, model, pp.Digest)
		opsCheck(h.Required == pp.Approvals, "the held rollout needs %d approvals; the target declares %d", h.Required, pp.Approvals)
		n := stillOnPin(ctx, r, "APR-1", "proposed", model, pin)
		for i := range pp.Approvals - 1 {
			var got heldRollout
			status, reason := approveAs(ctx, h.ID, approvers[i], &got)
			opsCheck(status == http.StatusOK && got.State == statePending && len(got.Approvals) == i+1,
				"operator %d's approval was answered %d (%s) with %s; want 200, pending_approval with %d approvals", i+1, status, reason, describeHeld(got), i+1)
		}
		if pp.Approvals > 1 {
			n += stillOnPin(ctx, r, "APR-1", "one-approval", model, pin)
			var got heldRollout
			status, reason := approveAs(ctx, h.ID, approvers[pp.Approvals-2], &got)
			opsCheck(status == http.StatusOK && got.State == statePending && len(got.Approvals) == pp.Approvals-1,
				"operator %d approving again was answered %d (%s) with %s; want 200, still pending_approval with %d approvals", pp.Approvals-1, status, reason, describeHeld(got), pp.Approvals-1)
			n += stillOnPin(ctx, r, "APR-1", "repeat-approval", model, pin)
			sameOperatorKey(ctx, pp, h)
			separateRollouts(ctx, model, pp, h)
		} else {
			notProbed("one-approval", "the protected pin needs one approval, so there is no partial approval to hold")
			notProbed("repeat-approval", "the protected pin needs one approval, so an operator approving again releases nothing")
			notProbed("same-operator-key", "the protected pin needs one approval, so a second key of one operator has no approval to double")
			notProbed("separate-rollouts", "the protected pin needs one approval, so no approval is short of releasing a rollout")
		}
		neverLeaves(ctx, "before the last approval", model, pin)

		var got heldRollout
		status, reason := approveAs(ctx, h.ID, approvers[pp.Approvals-1], &got)
		opsCheck(status == http.StatusOK && got.State == stateApplied, "the approval that completes the rule was answered %d (%s) with %s; want 200, applied", status, reason, describeHeld(got))
		allOn(ctx, model, pp.Digest)
		samples := serveEveryPath(ctx, r, "approved")
		served := judgeServedDigests(ctx, "APR-1", "approved", model, pp.Digest, samples)

		var users []string
		nameless := 0
		opsPoll(ctx, convergence, 100*time.Millisecond, func() bool {
			users, nameless = approvalRecordsSince(ctx, mark, model, pp.Digest)
			return len(users) >= pp.Approvals
		})
		opsCheck(len(users) == pp.Approvals && nameless == 0, "the evidence chain names %d distinct approvers (%s) of %s in records with no tenant, that model and digest since the proposal, and %d such records name no user; want the %d operators who approved, each named",
			len(users), strings.Join(users, ", "), pp.Digest, nameless, pp.Approvals)

		back := heldOtherWays(ctx, model, pin, pp.Digest)
		evidence("rollout %s to %s held through %d requests on every path at the pin %s (proposed, one short of %d approvals, that operator again) and %s with no worker leaving the pin; applied on the approval of %d distinct operators (%s in evidence), then %d requests served by %s on it; %s",
			h.ID, pp.Digest, n, pin, pp.Approvals, convergence, pp.Approvals, strings.Join(users, ", "), len(samples), strings.Join(served, ", "), back)
	}, SpecTimeout(5*time.Minute))

	// Every tenant's key and the workload credential, before any operator approved: then one
	// short of the rule, so a counted tenant approval would release the rollout.
	It("refuses approval to tenant and workload credentials, which leave no approval", Req("APR-2"), func(ctx SpecContext) {
		model, pp := protectedPin()
		pin, approvers := pinned(model), env.Target.Approvers()
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, model, pin); allOn(ctx, model, pin) })
		allOn(ctx, model, pin)
		h := propose(ctx, model, pp.Digest)

		type cred struct{ path, name, key string }
		var creds []cred
		for _, t := range env.Target.Tenants {
			creds = append(creds, cred{"tenant:" + t.Name, "tenant " + t.Name, t.Key})
		}
		if env.Target.Workload != nil {
			creds = append(creds, cred{"workload", "the workload credential", env.Target.Workload.Key})
		} else {
			notProbed("workload", "the target declares no workload credential")
		}
		for _, c := range creds {
			status, reason := approveAs(ctx, h.ID, c.key, nil)
			opsCheck(status == http.StatusForbidden && reason == outcome.ReasonForbidden,
				"%s approving rollout %s was answered %d (%s); want 403 forbidden", c.name, h.ID, status, reason)
			judgedFor("APR-2", c.path, 1)
		}
		got := heldState(ctx, h.ID)
		opsCheck(got.State == statePending && len(got.Approvals) == 0, "after the refused approvals rollout %s is %s; want pending_approval with no approval", h.ID, describeHeld(got))

		for i := range pp.Approvals - 1 {
			status, reason := approveAs(ctx, h.ID, approvers[i], nil)
			opsCheck(status == http.StatusOK, "operator %d's approval was answered %d (%s)", i+1, status, reason)
		}
		neverLeaves(ctx, "one operator approval short", model, pin)
		got = heldState(ctx, h.ID)
		opsCheck(got.State == statePending && len(got.Approvals) == pp.Approvals-1,
			"with %d operators' approvals of %d, rollout %s is %s; want pending_approval with exactly those", pp.Approvals-1, pp.Approvals, h.ID, describeHeld(got))
		judgedFor("APR-2", "operator", 1)
		evidence("%d credentials that are not an operator's refused 403 forbidden on rollout %s; it stayed pending with %d approvals of %d, no worker leaving %s within the declared convergence",
			len(creds), h.ID, len(got.Approvals), pp.Approvals, pin)
	}, SpecTimeout(2*time.Minute))
})
