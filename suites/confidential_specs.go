package suites

import (
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/discovery"
)

// ccFaults are the attestation faults CC-1 shows on the attested workers, each with the path it
// is judged on: a report replayed from long ago, one signed with a key nobody declared, one
// measuring a runtime version other than the pinned one, no report at all (a router that keeps
// its last verdict when nothing comes is caught), and a correctly signed report whose mode is off.
var ccFaults = []struct{ kind, path, says string }{
	{kind: discovery.DeviceAttestationStale, path: "stale", says: "a stale attestation"},
	{kind: discovery.DeviceAttestationForged, path: "forged", says: "an attestation signed with another key"},
	{kind: discovery.DeviceAttestationUnpinned, path: "unpinned", says: "an attestation measuring another runtime version"},
	{kind: discovery.DeviceAttestationWithdrawn, path: "withdrawn", says: "no attestation at all"},
	{kind: discovery.DeviceAttestationModeOff, path: "mode-off", says: "an attestation with confidential-computing mode off"},
}

// ccPressureRounds is how many rounds of requests (one per client path) CC-2 sends while the
// attested workers are under pressure, pressureRoundGap apart: about a second.
const ccPressureRounds = 8

var _ = Describe("Confidential compute", Serial, func() {
	It("serves a confidential tenant only on attested workers and names the attestation in evidence", Req("CC-1"), func(ctx SpecContext) {
		DeferCleanup(clearDevices)
		attested := ccSteady(ctx)
		if attested == nil {
			return
		}
		served := ccServedOnAttested(ctx, attested, "before the faults")
		leaks := ccNoLeak(ctx, attested)
		opsCheck(len(leaks) == 0, "the confidential tenant's data reached unattested capacity: %s", strings.Join(leaks, "; "))
		refused := 0
		for _, f := range ccFaults {
			ccFaultAll(ctx, attested, discovery.DeviceEvent{Kind: f.kind})
			// The positive control, read from the listing rather than trusted from it: once every
			// faulted worker presents what the harness itself refuses, the router has seen it too.
			// A router may go on showing the last report it verified (a withdrawn one) until it
			// is older than max_age: the wait allows that.
			var still []string
			shown := opsPoll(ctx, ccFaultWait(), 50*time.Millisecond, func() bool {
				still = nil
				listing := ccListing(ctx)
				for _, id := range attested {
					if a := listing[id].Attestation; a != nil {
						if _, bad := ccVerify(a.Presented, id, time.Now()); bad == "" {
							still = append(still, id)
						}
					}
				}
				return len(still) == 0
			})
			if !shown {
				inconclusive("within %s of showing %s, workers %s still present an attestation the harness verifies: the fault did nothing to refuse", ccFaultWait(), f.says, listed(still))
				return
			}
			refused += ccRefusedEverywhere(ctx, f.says+" on "+listed(attested), f.path)
			clearDevices(ctx)
			ccServedAgain(ctx, f.says)
		}
		replayed := ccReplayRefused(ctx, attested)
		evidence("%d requests of %s served only on attested %s, each evidence record naming an attestation the harness verified; %d refused with policy_forbids_fallback while the attested workers showed a stale, foreign-signed, unpinned, mode-off or no report; %d served only on attested workers while the others replayed %s's report",
			served, ccTenant().Name, listed(attested), refused, replayed, attested[0])
	}, SpecTimeout(2*time.Minute))

	It("refuses a confidential tenant rather than move it off attested capacity", Req("CC-2"), func(ctx SpecContext) {
		DeferCleanup(clearDevices)
		attested := ccSteady(ctx)
		if attested == nil {
			return
		}
		before := ccProbe(ctx, opsHTTP, "served before the fault?")
		opsCheck(before.class.Served() && slices.Contains(attested, before.servedBy.Worker), "before the fault the confidential tenant's request ended %s/%s by %s", before.class, before.reason, before.servedBy)

		ccFaultAll(ctx, attested, discovery.DeviceEvent{Kind: discovery.DeviceXID, XID: 79})
		var up []string
		drained := opsPoll(ctx, settle(), 50*time.Millisecond, func() bool {
			up, _ = ccAttested(ctx)
			return len(up) == 0
		})
		if !drained {
			invalid("within %s of XID 79 on %s, the listing still shows %s attested and healthy", settle(), listed(attested), listed(up))
			return
		}
		// The positive control: capacity to move to is up, so a refusal is the policy's doing.
		ctl := send(ctx, tenantA().Key, probe("another tenant still served?", 2, false), nil)
		if !ctl.Outcome.Served() {
			inconclusive("with the attested workers drained, tenant %s was not served either (%s/%s): nothing shows there was capacity to move to", tenantA().Name, ctl.Outcome, ctl.Reason)
			return
		}
		faulted := ccRefusedEverywhere(ctx, "XID 79 on "+listed(attested), "worker-fault")
		clearDevices(ctx)
		ccServedAgain(ctx, "the device fault")

		// A prompt warmed in the attested worker's L1 before the pressure: the pressure shrinks that
		// L1, and its evicted blocks must not go to (or come back from) the unattested shared tier.
		warmed := ccWarm(ctx)
		ccFaultAll(ctx, attested, discovery.DeviceEvent{Kind: discovery.DeviceMemoryPressure})
		var pressed []string
		all := opsPoll(ctx, settle(), 50*time.Millisecond, func() bool {
			pressed = underPressure(ctx)
			return len(pressed) >= len(attested)
		})
		opsCheck(all, "within %s of memory pressure on %s only %s report it", settle(), listed(attested), listed(pressed))
		// Rounds spaced like FLT-3's, so they span several health polls of a router that learns
		// of pressure by polling: a move made only once the router knows is caught.
		shed := 0
		round := time.NewTicker(pressureRoundGap)
		defer round.Stop()
		for i := range ccPressureRounds {
			for _, wire := range clientPaths() {
				res := ccProbe(ctx, wire, fmt.Sprintf("moved under pressure? %d", i))
				opsCheck(!res.class.Served(), "%s request %s of the confidential tenant was served by %s while every attested worker (%s) is under device pressure: it was moved off attested capacity",
					wire, res.id, res.servedBy, listed(attested))
				judged(wire, 1)
				judged("device-pressure", 1)
				shed++
			}
			select {
			case <-round.C:
			case <-ctx.Done():
			}
		}
		clearDevices(ctx)
		ccServedAgain(ctx, "the device pressure")
		evidence("%s: %d requests refused with policy_forbids_fallback while XID 79 drained %s and %s was served; %d shed or refused, none served elsewhere, under pressure on %s",
			ccTenant().Name, faulted, listed(attested), tenantA().Name, shed, listed(attested))
		ccJudgeDemotion(ctx, warmed)
	}, SpecTimeout(2*time.Minute))
})
