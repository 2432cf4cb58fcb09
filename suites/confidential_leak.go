package suites

import (
	"context"
	"fmt"
	"slices"

	"github.com/aruntime/arcert/conformance/driver"
)

// ccLongShare is the share of the context, in words, of CC-1's long prompts: long enough for a
// disaggregated runtime to prefill them on a prefill worker (at most two tokens a word keeps them
// inside the context), so a confidential prompt sent to an unattested prefill worker is caught.
const (
	ccLongShare   = 0.45
	ccLongPrompts = 2
)

// ccNoLeak sends ccLongPrompts long prompts as the confidential tenant, then reads every
// worker's own record of what reached it (operations.worker_credentials): the tenant context of
// the confidential tenant (its name, application and user, whose fingerprints a worker records for
// every request it runs, prefill included) must appear at no worker outside attested. The positive
// control is that an attested worker's record shows the tenant's name: a record that shows
// nothing could not show a leak either. It returns the leaks, and records the path as not probed
// when it cannot be read.
func ccNoLeak(ctx context.Context, attested []string) []string {
	if !workerRecordsDeclared() {
		notProbed("unattested-workers", "the target declares no operations.worker_credentials (or no operator credential), so what reached each worker cannot be read")
		return nil
	}
	t := ccTenant()
	words := int(float64(model().ContextLength) * ccLongShare)
	r := rng(0xcc1)
	for i := range ccLongPrompts {
		res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: t.Key, Body: probe(prompt(r, words), 2, false)})
		opsCheck(err == nil, "long prompt %d of the confidential tenant could not be exchanged: %v", i, err)
		opsCheck(res.Outcome.Served() && slices.Contains(attested, res.ServedBy.Worker), "long prompt %d of the confidential tenant ended %s/%s by %s, not served on attested %s",
			i, res.Outcome, res.Reason, res.ServedBy, listed(attested))
	}
	mine := tenantContextPrints(t)
	var leaks []string
	shown := false
	for _, w := range workerIDs(ctx) {
		rec := workerRecord(ctx, w)
		if slices.Contains(attested, w) {
			shown = shown || slices.Contains(rec.Credentials, credentialFingerprint(t.Name))
			continue
		}
		for _, fp := range rec.Credentials {
			if what, ok := mine[fp]; ok {
				leaks = append(leaks, fmt.Sprintf("unattested worker %s was sent the confidential tenant's context (%s)", w, what))
			}
		}
		judged("unattested-workers", 1)
	}
	if !shown {
		notProbed("unattested-workers", "no attested worker's record shows the confidential tenant's name it served (positive control): the records do not show tenant context")
		return nil
	}
	return leaks
}
