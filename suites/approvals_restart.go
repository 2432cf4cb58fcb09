package suites

import (
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/chaos/fault"
)

var _ = Describe("Router crash with a held rollout", Serial, Label("fault:router"), func() {
	// One approval short of the rule when the router dies: a runtime that keeps approvals in the
	// router's memory comes back with none (or with the rollout forgotten), so the last
	// operator's approval either releases nothing or is refused.
	It("keeps a held rollout and its approvals across a crash of the router", Req("APR-3"), func(ctx SpecContext) {
		if env.Nodes == nil || len(env.Nodes.Parts(routerRole)) == 0 {
			inconclusive("the harness controls no router part of this runtime to crash")
			return
		}
		model, pp := protectedPin()
		if pp.Approvals < 2 {
			// One short of a rule of one is no approval at all: a runtime that keeps approvals
			// only in memory would have nothing to lose in the crash.
			inconclusive("the protected pin needs %d approval, so the held rollout has no approval for the crash to lose; APR-3 needs a rule of 2 or more", pp.Approvals)
			return
		}
		DeferCleanup(noResidue)
		pin, approvers := pinned(model), env.Target.Approvers()
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, model, pin); allOn(ctx, model, pin) })
		awaitSteady(ctx)
		allOn(ctx, model, pin)

		h := propose(ctx, model, pp.Digest)
		for i := range pp.Approvals - 1 {
			status, reason := approveAs(ctx, h.ID, approvers[i], nil)
			opsCheck(status == http.StatusOK, "operator %d's approval was answered %d (%s)", i+1, status, reason)
		}
		before := heldState(ctx, h.ID)
		opsCheck(before.State == statePending && len(before.Approvals) == pp.Approvals-1, "before the crash rollout %s is %s; want pending_approval with %d approvals", h.ID, describeHeld(before), pp.Approvals-1)
		for _, w := range workerDigests(ctx, model) {
			opsCheck(strings.HasSuffix(w, "="+pin), "before the crash, with rollout %s one approval short, a worker left the pin %s: %s", h.ID, pin, workersOn(ctx, model))
		}
		judgedFor("APR-3", "before-crash", 1)

		router := env.Nodes.Parts(routerRole)[0]
		killed := time.Now()
		Expect(env.Nodes.Kill(ctx, routerRole, router)).To(Succeed(), "killing %s", router)
		Expect(env.Nodes.Restart(ctx, routerRole, router)).To(Succeed(), "restarting %s", router)
		recordWindow(fault.Window{Fault: fault.Fault{Kind: workerKill}, Role: routerRole, Name: router, Start: killed, End: time.Now()})
		awaitSteady(ctx)
		back := time.Since(killed)

		after := heldState(ctx, h.ID)
		same := slices.Equal(operatorsOf(before), operatorsOf(after))
		opsCheck(after.State == statePending && same, "after the router's restart rollout %s is %s; before the crash it was %s", h.ID, describeHeld(after), describeHeld(before))
		neverLeaves(ctx, "after the router's restart", model, pin)
		judgedFor("APR-3", "after-restart", 1)

		var got heldRollout
		status, reason := approveAs(ctx, h.ID, approvers[pp.Approvals-1], &got)
		opsCheck(status == http.StatusOK && got.State == stateApplied, "the last approval after the restart was answered %d (%s) with %s; want 200, applied", status, reason, describeHeld(got))
		allOn(ctx, model, pp.Digest)
		judgedFor("APR-3", "approved", 1)
		evidence("%s killed with rollout %s held at %d of %d approvals; back in %s with the same approvals, no worker off %s; the last approval applied it and every worker converged on %s",
			router, h.ID, len(before.Approvals), pp.Approvals, back.Round(time.Millisecond), pin, pp.Digest)
	}, SpecTimeout(3*time.Minute))
})

// operatorsOf lists who approved h, in order.
func operatorsOf(h heldRollout) []string {
	var out []string
	for _, a := range h.Approvals {
		out = append(out, a.Operator)
	}
	return out
}
