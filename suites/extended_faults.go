package suites

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
)

// Load profile of the XID spec: faultStreams streams of faultTokens tokens are in flight when the
// XID arrives xidLead after they started (a few decode steps in, so some are mid-stream and
// some still queued), and afterProbes requests check that new work avoids the drained worker.
const (
	faultStreams = 12
	faultTokens  = 48
	xidLead      = 150 * time.Millisecond
	afterProbes  = 16
	faultXID     = 79 // "GPU has fallen off the bus": the device is gone until reset
	// cutSkew is how much later than the hook's reply a stream the victim finished before the cut
	// may still reach us: the two replies travel different connections. A stream the victim kept
	// serving past the cut runs on for most of its faultTokens, far longer than this.
	cutSkew = 50 * time.Millisecond
)

// victim is a healthy serving worker in tenant A's allowed regions that has a healthy peer there,
// so its work has somewhere to go; "" when the runtime has no such pair.
func victim(ctx context.Context) string {
	allowed := tenantA().DataPolicy.AllowedRegions
	var ids []string
	for _, w := range versionsNow(ctx) {
		if w.Healthy && w.Role != "prefill" && slices.Contains(allowed, w.Region) {
			ids = append(ids, w.Worker)
		}
	}
	if len(ids) < 2 {
		return ""
	}
	return ids[0]
}

var _ = Describe("Device faults", Serial, func() {
	It("drain the worker and finish its work elsewhere or as worker_lost", Req("DEV-1"), func(ctx SpecContext) {
		DeferCleanup(clearDevices)
		id := victim(ctx)
		if id == "" {
			invalid("tenant A's regions have fewer than two healthy serving workers: a drained worker's work has nowhere to go")
			return
		}
		r := rng(0xde1)
		results := make([]driver.Result, faultStreams)
		errs := make([]error, faultStreams)
		ended := make([]time.Time, faultStreams)
		var wg sync.WaitGroup
		for i := range faultStreams {
			p := prompt(r, 24)
			wg.Go(func() {
				results[i], errs[i] = env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: tenantA().Key, Body: probe(p, faultTokens, true)})
				ended[i] = time.Now()
			})
		}
		lead := time.NewTimer(xidLead)
		select {
		case <-lead.C:
		case <-ctx.Done():
		}
		after := deviceEvent(ctx, id, discovery.DeviceEvent{Kind: discovery.DeviceXID, XID: faultXID})
		hookReturned := time.Now()
		Expect(after.Healthy).To(BeFalse(), "worker %s still reports healthy after xid %d", id, faultXID)
		wg.Wait()
		if after.CutSequences == 0 {
			invalid("xid %d on %s cut no running sequence (the hook reports 0): the fault hit no in-flight work", faultXID, id)
			return
		}

		served, lost := 0, 0
		for i, res := range results {
			Expect(errs[i]).NotTo(HaveOccurred(), "in-flight request %d could not be exchanged", i)
			Expect(res.Indeterminate).To(BeFalse(), "in-flight request %d has no outcome: %s", i, describe(res))
			Expect(res.ContractViolations).To(BeEmpty(), "in-flight request %d: %s", i, describe(res))
			switch {
			case res.Outcome.Served() && res.ServedBy.Worker == id && ended[i].After(hookReturned.Add(cutSkew)):
				Fail(fmt.Sprintf("in-flight request %s was served by %s, finishing %s after the fault cut it: %s",
					res.RequestID, id, ended[i].Sub(hookReturned), describe(res)))
			case res.Outcome.Served():
				served++
			case res.Outcome == outcome.Failed && res.Reason == outcome.ReasonWorkerLost:
				lost++
			default:
				Fail("in-flight request " + res.RequestID + " ended neither served nor worker_lost: " + describe(res))
			}
		}
		Eventually(func() bool {
			for _, w := range versionsNow(ctx) {
				if w.Worker == id {
					return !w.Healthy
				}
			}
			return false
		}).WithContext(ctx).WithTimeout(settle()).WithPolling(50*time.Millisecond).Should(BeTrue(), "worker %s is not reported unhealthy", id)

		for i := range afterProbes {
			res := send(ctx, tenantA().Key, probe(prompt(r, 8), 2, false), nil)
			Expect(res.Outcome.Served()).To(BeTrue(), "probe %d after the fault: %s", i, describe(res))
			Expect(res.ServedBy.Worker).NotTo(Equal(id), "probe %d after the fault was served by the drained worker", i)
		}
		clearDevices(ctx)
		tries := 0
		Eventually(func() string {
			tries++
			return send(ctx, tenantA().Key, probe(prompt(r, 8), 2, false), nil).ServedBy.Worker
		}).WithContext(ctx).WithTimeout(settle()).WithPolling(20*time.Millisecond).Should(Equal(id),
			"worker %s served no probe after its device was reset", id)
		evidence("xid %d on %s cut %d sequences: of %d streams in flight %d were served, %d ended worker_lost; %d new requests all avoided it; after the reset it served probe %d",
			faultXID, id, after.CutSequences, faultStreams, served, lost, afterProbes, tries)
	}, SpecTimeout(time.Minute))
})
