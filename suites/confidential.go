package suites

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
)

// Samples per client path: ccServedPerPath served requests whose evidence is checked, and
// ccRefusedPerPath requests under each fault, enough that a runtime which refuses some and serves
// others (a stale check made only every few polls, say) is caught.
const (
	ccServedPerPath  = 5
	ccRefusedPerPath = 4
)

// ccResult is one confidential tenant's request, whichever client path carried it.
type ccResult struct {
	id         string
	class      outcome.Class
	reason     outcome.Reason
	servedBy   outcome.ServedBy
	violations []string
}

// ccProbe sends one request as the confidential tenant on path.
func ccProbe(ctx context.Context, path, text string) ccResult {
	key := ccTenant().Key
	if path == opsGRPC {
		res, err := env.GRPC.Complete(ctx, key, &arcertv1.CompleteRequest{Model: model().Name,
			Messages: []*arcertv1.ChatMessage{{Role: "user", Content: text}}, MaxTokens: 2})
		opsCheck(err == nil, "a gRPC request of the confidential tenant could not be exchanged: %v", err)
		return ccResult{id: res.RequestID, class: res.Outcome, reason: res.Reason, servedBy: res.ServedBy, violations: res.ContractViolations}
	}
	res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: key, Body: probe(text, 2, path == opsHTTPStream)})
	opsCheck(err == nil, "a %s request of the confidential tenant could not be exchanged: %v", path, err)
	return ccResult{id: res.RequestID, class: res.Outcome, reason: res.Reason, servedBy: res.ServedBy, violations: res.ContractViolations}
}

// ccServedOnAttested sends ccServedPerPath requests per client path and requires each to be
// served by a worker in attested, its evidence naming an attestation the runtime resolves and the
// harness verifies for that worker at the request's time. It returns how many it judged.
func ccServedOnAttested(ctx context.Context, attested []string, phase string) int {
	resolved := map[string]discovery.Attestation{}
	n := 0
	for _, path := range clientPaths() {
		for i := range ccServedPerPath {
			res := ccProbe(ctx, path, fmt.Sprintf("attested only? %s %d", phase, i))
			opsCheck(len(res.violations) == 0, "%s request of the confidential tenant broke the contract: %s", path, strings.Join(res.violations, "; "))
			opsCheck(res.class.Served(), "%s request %s of the confidential tenant %s ended %s/%s while worker %s is attested", path, res.id, phase, res.class, res.reason, listed(attested))
			opsCheck(slices.Contains(attested, res.servedBy.Worker), "%s request %s of the confidential tenant was served by %s, which the versions listing does not show attested (attested: %s)",
				path, res.id, res.servedBy, listed(attested))
			rec := evidenceFor(ctx, ccTenant().Key, res.id)[0]
			opsCheck(rec.Attestation != "", "the evidence of %s request %s of the confidential tenant names no attestation", path, res.id)
			opsCheck(rec.ServedBy.Worker == res.servedBy.Worker, "the evidence of %s request %s says worker %q served it, the response says %q: the attestation it names cannot be matched to what served",
				path, res.id, rec.ServedBy.Worker, res.servedBy.Worker)
			a, ok := resolved[rec.Attestation]
			if !ok {
				a = ccResolve(ctx, rec.Attestation)
				resolved[rec.Attestation] = a
			}
			opsCheck(ccDigest(a.Presented) == rec.Attestation, "attestation %s named by the evidence of %s resolves to a text whose digest is %s", rec.Attestation, res.id, ccDigest(a.Presented))
			_, bad := ccVerify(a.Presented, res.servedBy.Worker, rec.Time)
			opsCheck(bad == "", "the attestation %s the evidence of %s request %s names does not hold for worker %s: %s", rec.Attestation, path, res.id, res.servedBy.Worker, bad)
			judged(path, 1)
			judged("evidence", 1)
			n++
		}
	}
	return n
}

// ccRefusedEverywhere sends ccRefusedPerPath requests per client path and requires each to be
// refused with policy_forbids_fallback and served nowhere; each one's evidence record must say so.
func ccRefusedEverywhere(ctx context.Context, fault, path string) int {
	n := 0
	for _, wire := range clientPaths() {
		for i := range ccRefusedPerPath {
			res := ccProbe(ctx, wire, fmt.Sprintf("refused after %s? %d", fault, i))
			opsCheck(len(res.violations) == 0, "%s request of the confidential tenant broke the contract: %s", wire, strings.Join(res.violations, "; "))
			opsCheck(!res.class.Served(), "%s request %s of the confidential tenant was served (%s/%s by %s) after %s: no attested worker is left", wire, res.id, res.class, res.reason, res.servedBy, fault)
			opsCheck(res.reason == outcome.ReasonPolicyForbidsFallback, "%s request %s of the confidential tenant after %s ended %s/%s, not policy_forbids_fallback", wire, res.id, fault, res.class, res.reason)
			rec := evidenceFor(ctx, ccTenant().Key, res.id)[0]
			opsCheck(rec.Reason == outcome.ReasonPolicyForbidsFallback && rec.ServedBy == (outcome.ServedBy{}) && rec.Attestation == "",
				"the evidence of refused %s request %s names %s, served by %+v, attestation %q", wire, res.id, rec.Reason, rec.ServedBy, rec.Attestation)
			judged(wire, 1)
			judged(path, 1)
			judged("evidence", 1)
			n++
		}
	}
	return n
}

// ccSteady is the steady state of a confidential spec: devices steady, some serving workers
// attested and some not (else nothing tells attested capacity from the rest), and each attested
// one presenting what the harness verifies itself. It returns the attested workers, nil when the
// spec cannot be judged (and says why).
func ccSteady(ctx context.Context) []string {
	if !devicesSteady(ctx) {
		return nil
	}
	explainClientPaths(false)
	attested, not := ccAttested(ctx)
	switch {
	case len(attested) == 0:
		inconclusive("the versions listing shows no attested worker: nothing can serve the confidential tenant")
		return nil
	case len(not) == 0:
		inconclusive("every serving worker is attested (%s): nothing shows the confidential tenant is kept off unattested capacity", listed(attested))
		return nil
	}
	listing := ccListing(ctx)
	for _, id := range attested {
		a := listing[id].Attestation
		_, bad := ccVerify(a.Presented, id, time.Now())
		opsCheck(bad == "", "worker %s is listed attested, but its attestation does not hold: %s", id, bad)
		opsCheck(ccDigest(a.Presented) == a.Digest, "worker %s's listed digest %s is not the digest of what it presented, %s", id, a.Digest, ccDigest(a.Presented))
	}
	evidence("attested: %s; not attested: %s", listed(attested), listed(not))
	return attested
}

// ccFaultAll sends ev to every worker in ids.
func ccFaultAll(ctx context.Context, ids []string, ev discovery.DeviceEvent) {
	for _, id := range ids {
		deviceEvent(ctx, id, ev)
	}
}

// ccServedAgain waits until the confidential tenant is served again after a reset.
func ccServedAgain(ctx context.Context, after string) {
	again := opsPoll(ctx, settle(), 50*time.Millisecond, func() bool {
		return ccProbe(ctx, opsHTTP, "served again? "+after).class.Served()
	})
	opsCheck(again, "the confidential tenant was not served within %s of the reset after %s", settle(), after)
}
