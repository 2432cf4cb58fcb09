package suites

import (
	"context"
	"time"

	"github.com/aruntime/arcert/api/discovery"
)

// ccFaultWait is how long CC-1 waits for a fault to show: settle, plus the declared max_age a
// router may go on trusting the last report it verified.
func ccFaultWait() time.Duration { return settle() + env.Target.Confidential.MaxAge }

// ccReplayRefused makes every worker that does not attest present the first attested worker's
// current attestation text as its own (attestation_replayed) and requires the confidential
// tenant to be served only on the attested workers still: a report names the worker it attests,
// and a router that does not check it is the worker presenting it routes the tenant to the
// replaying one. The positive control is that the listing shows each replaying worker presenting
// exactly that text. It returns how many requests it judged (0: not probed, and says why).
func ccReplayRefused(ctx context.Context, attested []string) int {
	listing := ccListing(ctx)
	text := ""
	if a := listing[attested[0]].Attestation; a != nil {
		text = a.Presented
	}
	_, others := ccAttested(ctx)
	var replayers []string
	for _, id := range others {
		if listing[id].Healthy {
			replayers = append(replayers, id)
		}
	}
	if text == "" || len(replayers) == 0 {
		notProbed("replayed", "no attested worker's text to replay, or no healthy unattested worker to replay it on")
		return 0
	}
	ccFaultAll(ctx, replayers, discovery.DeviceEvent{Kind: discovery.DeviceAttestationReplayed, Attestation: text})
	var missing []string
	shown := opsPoll(ctx, settle(), 50*time.Millisecond, func() bool {
		missing = nil
		listing := ccListing(ctx)
		for _, id := range replayers {
			if a := listing[id].Attestation; a == nil || a.Presented != text {
				missing = append(missing, id)
			}
		}
		return len(missing) == 0
	})
	if !shown {
		notProbed("replayed", "within %s of attestation_replayed, the listing does not show %s presenting %s's attestation", settle(), listed(missing), attested[0])
		return 0
	}
	n := ccServedOnAttested(ctx, attested, "while "+listed(replayers)+" replay "+attested[0]+"'s report")
	judged("replayed", n)
	clearDevices(ctx)
	return n
}
