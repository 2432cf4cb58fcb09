package suites

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
)

// slowRegistry is the latency a cold start meets on every registry exchange: slow, not down.
const slowRegistry = 300 * time.Millisecond

// expectServedByOthers checks that the requests after detection were served, none by victim,
// and reports whether there were enough of them to judge (else it records INVALID).
func expectServedByOthers(rr runResult, victim string) bool {
	settled := rr.settled()
	if len(settled) < minSettled {
		invalid("only %d requests after detection while %s was away (need %d)", len(settled), victim, minSettled)
		return false
	}
	served := chaosledger.Where(settled, chaosledger.Entry.Served)
	Expect(float64(len(served))).To(BeNumerically(">=", servedAfterLoss*float64(len(settled))),
		"with %s away, %d of %d requests were served: %s", victim, len(served), len(settled), scenario.CountsText(settled))
	for _, e := range served {
		Expect(e.ServedBy.Worker).NotTo(Equal(victim), "request #%d was served by %s while it was away", e.Seq, victim)
	}
	evidence("with %s away, %d of %d requests after detection were served, none by it", victim, len(served), len(settled))
	return true
}

var _ = Describe("Cold start with a slow registry", Serial, Label("fault:registry", "fault:worker"), func() {
	It("brings a lost worker back on its pin through a slow registry while the others serve", Req("FLT-2"), func(ctx SpecContext) {
		if !needLinks(link.RoleRegistry, "") {
			return
		}
		_, model, _, convergence := ops()
		DeferCleanup(noResidue)
		region, parts, ok := workersToLose(2, "a cold start while another serves")
		if !ok {
			return
		}
		victim := parts[len(parts)-1]
		allOn(ctx, model, pinned(model))
		before := instanceOf(ctx, victim, model)
		var restarted time.Duration
		rr := faultRun{name: "cold-start-slow-registry", stream: 371, pick: alternate(tenantA(), tenantB()),
			inject: func(ctx context.Context) func() error {
				slow := inject(link.RoleRegistry, "", fault.Fault{Kind: fault.Latency, Latency: slowRegistry})
				back := loseWorkers(ctx, region, victim)
				return func() error {
					start := time.Now()
					err := back() // the restart pulls the pinned artifacts through the slow registry
					restarted = time.Since(start)
					return errors.Join(err, slow())
				}
			}}.run(ctx)
		if !steadyBefore(rr) {
			return
		}
		expectEveryRequestEnded(ctx, rr)
		if !expectServedByOthers(rr, victim) {
			return
		}
		if restarted < slowRegistry {
			invalid("%s came back in %s, faster than one slowed registry exchange (%s): its start did not wait on the registry", victim, restarted, slowRegistry)
			return
		}
		// What the versions endpoint last said of the victim, for the failure message: Gomega reads
		// the message on its own goroutine (at a failure, and for progress reports), so it only
		// formats what the polls saw, asking the runtime nothing.
		var seen atomic.Pointer[string]
		seen.Store(new("no versions listing read yet"))
		Eventually(func() string {
			w, listed := versionsOf(ctx, victim)
			seen.Store(new(versionsText(victim, w, listed)))
			return instanceIn(w, listed, model)
		}).WithContext(ctx).WithTimeout(convergence).
			WithPolling(100*time.Millisecond).Should(And(HaveSuffix("@"+pinned(model)), Not(Equal(before))),
			func() string {
				return fmt.Sprintf("%s did not come back as a new instance on the pin %s within the declared convergence of %s after its restart (which took %s); before the loss it was %q; at the last poll %s",
					victim, pinned(model), convergence, restarted.Round(time.Millisecond), before, *seen.Load())
			})
		judgedFor("FLT-2", "cold-start", len(rr.settled()))
		evidence("%s came back on %s in %s with every registry exchange %s slower; the others served meanwhile", victim, pinned(model), restarted.Round(time.Millisecond), slowRegistry)
	}, SpecTimeout(2*time.Minute))
})

var _ = Describe("Rollback under a fault", Serial, Label("fault:worker"), func() {
	It("rolls back while a worker is lost, and the worker returns on the rolled-back pin", Req("FLT-2"), func(ctx SpecContext) {
		_, model, _, _ := ops()
		DeferCleanup(noResidue)
		region, parts, ok := workersToLose(2, "a rollback under worker loss while another serves")
		if !ok {
			return
		}
		victim, rollout := parts[0], env.Target.Operations.RolloutDigest
		allOn(ctx, model, pinned(model))
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, model, pinned(model)); allOn(ctx, model, pinned(model)) })
		setDigest(ctx, model, rollout)
		allOn(ctx, model, rollout)
		rr := faultRun{name: "rollback-under-worker-loss", stream: 381, pick: alternate(tenantA(), tenantB()),
			inject: func(ctx context.Context) func() error {
				back := loseWorkers(ctx, region, victim)
				setDigest(ctx, model, pinned(model)) // the rollback, while the worker is away
				return back
			}}.run(ctx)
		if !steadyBefore(rr) {
			return
		}
		expectEveryRequestEnded(ctx, rr)
		if !expectServedByOthers(rr, victim) {
			return
		}
		allOn(ctx, model, pinned(model))
		judgedFor("FLT-2", "rollback", len(rr.settled()))
		evidence("rolled back from %s to %s while %s was lost; every worker, %s included, converged on %s", rollout, pinned(model), victim, victim, pinned(model))
	}, SpecTimeout(2*time.Minute))
})
