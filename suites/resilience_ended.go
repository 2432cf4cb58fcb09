package suites

import (
	"context"
	"time"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// expectEveryRequestEnded is FLT-1's core: every request of the run stated exactly one outcome
// of the contract in time, and every indeterminate one resolves against the runtime's evidence
// as recovered (one record), never lost or duplicated.
func expectEveryRequestEnded(ctx context.Context, rr runResult) {
	Expect(chaosledger.OneTerminalOutcome(rr.entries)).To(BeEmpty(), "requests without exactly one outcome of the contract")
	hung := chaosledger.NoneHung(rr.entries, func(e chaosledger.Entry) bool { return e.Latency() <= e.Deadline+deadlineGrace })
	Expect(hung).To(BeEmpty(), "requests that outlived their deadline")
	var indeterminate int
	for _, e := range rr.entries {
		if e.Indeterminate {
			indeterminate++
		}
	}
	if indeterminate > 0 {
		Expect(env.Target.Operator).NotTo(BeNil(), "%d indeterminate requests, and no operator credential to reconcile them against evidence", indeterminate)
		key := env.Target.Operator.Key
		res := chaosledger.Reconcile(rr.entries, func(id string) int {
			// A spooled record may reach the chain a moment after healing: wait for it.
			var n int
			Eventually(func() int { n = len(evidenceNow(ctx, key, id)); return n }).WithContext(ctx).
				WithTimeout(recoveryTime()).WithPolling(100 * time.Millisecond).Should(BeNumerically(">", 0))
			return n
		})
		for _, r := range res {
			Expect(r.Resolution).To(Equal(chaosledger.Recovered), "request #%d (%s) is %s after healing (%d records)", r.Entry.Seq, r.Entry.RequestID, r.Resolution, r.Records)
		}
	}
	evidence("%d requests: %s", len(rr.entries), scenario.CountsText(rr.entries))
}

// expectRecovery checks that t was served again within the declared recovery time after the
// fault healed: from the run's own tail when one of t's requests there was served in time,
// else by probing until the recovery time after healing has passed. It records how long it took.
func expectRecovery(ctx context.Context, rr runResult, t target.Tenant) {
	limit := rr.window.End.Add(recoveryTime())
	for _, e := range rr.entries {
		if e.Tenant == t.Name && !e.Start.Before(rr.window.End) && e.Outcome == outcome.Completed && e.End.Before(limit) {
			evidence("%s completed again %s after healing (declared recovery %s)", t.Name, e.End.Sub(rr.window.End).Round(time.Millisecond), recoveryTime())
			return
		}
	}
	var at time.Time
	Eventually(func() bool {
		res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: t.Key, Body: probe("recovery probe", 2, false)})
		at = time.Now()
		return err == nil && res.Outcome == outcome.Completed
	}).WithContext(ctx).WithTimeout(max(time.Until(limit), time.Millisecond)).WithPolling(100*time.Millisecond).
		Should(BeTrue(), "%s not back to completed within the declared recovery of %s after healing", t.Name, recoveryTime())
	evidence("%s completed again %s after healing (declared recovery %s)", t.Name, at.Sub(rr.window.End).Round(time.Millisecond), recoveryTime())
}
