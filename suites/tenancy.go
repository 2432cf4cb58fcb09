package suites

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/target"
)

// spoofHeaders are the client-controlled labels a careless gateway takes a tenant from.
func spoofHeaders(victim string) http.Header {
	return http.Header{"X-Tenant-Id": {victim}, "X-Tenant": {victim}, "X-Org-Id": {victim},
		"X-Gateway-Inference-Fairness-Id": {victim}, "OpenAI-Organization": {victim}}
}

// spoofedSpends is how many spoofed requests the quota check sends: enough that the caller's
// remaining allowance visibly drops even as its bucket refills between the two reads.
const spoofedSpends = 3

// quotaGoesToCaller sends requests as the smallest-quota tenant S with every label naming another
// tenant V, and checks through /v1/aruntime/quotas that S's allowance dropped and V's did not. The
// smallest quota refills slowest, so the drop is visible; a large one refills within a request.
func quotaGoesToCaller(ctx context.Context) {
	s := smallestQuota()
	v := tenantA()
	if v.Name == s.Name {
		v = tenantB()
	}
	remaining := func(t target.Tenant) float64 {
		var q discovery.Quotas
		Expect(getJSON(ctx, discovery.PathQuotas, t.Key, &q)).To(Equal(http.StatusOK))
		return q.RequestsPerMinute.Remaining
	}
	sBefore, vBefore := remaining(s), remaining(v)
	for range spoofedSpends {
		body := probe("tenant: "+v.Name+"; charge "+v.Name, 1, false)
		body.User, body.CacheSalt = v.Name, v.Name
		res := send(ctx, s.Key, body, spoofHeaders(v.Name))
		Expect(res.Outcome.Served()).To(BeTrue(), describe(res))
	}
	sAfter, vAfter := remaining(s), remaining(v)
	evidence("%d requests as %s naming %s: %s's remaining requests %.2f -> %.2f, %s's %.2f -> %.2f",
		spoofedSpends, s.Name, v.Name, s.Name, sBefore, sAfter, v.Name, vBefore, vAfter)
	Expect(sBefore-sAfter).To(BeNumerically(">=", spoofedSpends/2.0), "the caller's quota was not spent")
	Expect(vBefore-vAfter).To(BeNumerically("<", 1), "the named tenant's quota was spent")
}

// pairedTries bounds how many fresh prompts the paired test tries before it gives up on B reaching
// the worker that holds A's prefix (a runtime may route tenants apart, by design or by hashing).
const pairedTries = 8

// paired is one paired probe: A's cached repeat and B's probe of the same prompt.
type paired struct {
	control, cross int
	worker         string
}

// pairedProbe warms a fresh prompt as A, repeats it as A (the control), and probes it as B (with
// A's name as cache_salt and every spoof header when spoof), until B's probe runs on the worker
// that served A's repeat. A runtime that does not name its workers is taken as one place.
func pairedProbe(ctx context.Context, r *rand.Rand, a, b target.Tenant, spoof bool) (paired, bool) {
	var last paired
	for range pairedTries {
		p := prompt(r, cachePromptWords)
		first := send(ctx, a.Key, probe(p, 1, false), nil)
		Expect(first.Outcome.Served()).To(BeTrue(), describe(first))
		again := send(ctx, a.Key, probe(p, 1, false), nil)
		Expect(again.Outcome.Served()).To(BeTrue(), describe(again))
		body, hdr := probe(p, 1, false), http.Header(nil)
		if spoof {
			body.CacheSalt, hdr = a.Name, spoofHeaders(a.Name)
		}
		cross := send(ctx, b.Key, body, hdr)
		Expect(cross.Outcome.Served()).To(BeTrue(), describe(cross))
		last = paired{control: again.Usage.PromptTokensDetails.CachedTokens, cross: cross.Usage.PromptTokensDetails.CachedTokens, worker: again.ServedBy.Worker}
		if last.control == 0 {
			return last, false
		}
		if again.ServedBy.Worker == cross.ServedBy.Worker {
			return last, true
		}
	}
	return last, false
}

// cachePromptWords makes a prompt long enough to fill several prefix-cache blocks of any engine.
const cachePromptWords = 600

var _ = Describe("Tenancy", func() {
	It("binds the tenant from the credential only", Req("TEN-1"), func(ctx SpecContext) {
		a, b := tenantA(), tenantB()
		body := probe("tenant: "+b.Name+". I am "+b.Name+"; bill "+b.Name+".", 2, false)
		body.User, body.CacheSalt = b.Name, b.Name
		res := send(ctx, a.Key, body, spoofHeaders(b.Name))
		Expect(res.Outcome.Served()).To(BeTrue(), describe(res))
		recs := evidenceFor(ctx, a.Key, res.RequestID)
		Expect(recs).To(HaveLen(1), "%s cannot find its own request %s in evidence: it was recorded under another tenant (or not at all)", a.Name, res.RequestID)
		r := recs[0]
		Expect(r.Tenant).To(Equal(a.Name), "labels naming %s changed the tenant of %s's request", b.Name, a.Name)
		if a.CostCenter != "" {
			Expect(r.CostCenter).To(Equal(a.CostCenter), "billed to another cost center")
		}
		Expect(evidenceNow(ctx, b.Key, res.RequestID)).To(BeEmpty(), "tenant %s can read %s's evidence", b.Name, a.Name)
		evidence("request %s with every label naming %s: evidence tenant %s, cost center %s", res.RequestID, b.Name, r.Tenant, r.CostCenter)
		quotaGoesToCaller(ctx)
	}, SpecTimeout(specTimeout))

	It("isolates prefix-cache reuse per tenant (paired test)", Req("TEN-2"), func(ctx SpecContext) {
		a, b := tenantA(), tenantB()
		r := rng(2)
		for _, spoof := range []bool{false, true} {
			what := b.Name + " with the identical prompt"
			if spoof {
				what = b.Name + " sending " + a.Name + "'s name as cache_salt"
			}
			probe, ok := pairedProbe(ctx, r, a, b, spoof)
			switch {
			case probe.control == 0:
				inconclusive("positive control failed: %s's own repeat reported no cached tokens, so a miss proves nothing", a.Name)
				return
			case !ok:
				inconclusive("in %d tries %s never reached the worker holding %s's prefix, so its miss proves nothing", pairedTries, what, a.Name)
				return
			}
			evidence("%s: %s's repeat %d cached tokens on %s; %s %d cached tokens on the same worker", what, a.Name, probe.control, probe.worker, b.Name, probe.cross)
			Expect(probe.cross).To(BeZero(), "%s reused %s's cached prefix (%s)", b.Name, a.Name, what)
		}
	}, SpecTimeout(specTimeout))

	It("leaks no cached prefix through time to first token", Req("TEN-3"), func(ctx SpecContext) {
		timingLeakTest(ctx)
	}, SpecTimeout(2*time.Minute))

	It("propagates tenant context to evidence, traces and billing", Req("TEN-4"), func(ctx SpecContext) {
		a := tenantA()
		res := send(ctx, a.Key, probe("bill me", 3, false), nil)
		Expect(res.Outcome).To(Equal(outcome.Completed), describe(res))
		recs := evidenceFor(ctx, a.Key, res.RequestID)
		Expect(recs).To(HaveLen(1))
		r := recs[0]
		Expect(r.Tenant).To(Equal(a.Name))
		Expect(r.TraceID).NotTo(BeEmpty(), "no trace id")
		Expect(r.Tokens.Completion).To(Equal(res.Usage.CompletionTokens), "billed tokens differ from the response's usage")
		Expect(r.Tokens.Prompt).To(Equal(res.Usage.PromptTokens))
		Expect(r.CostCenter).NotTo(BeEmpty(), "no cost attribution")
		Expect(r.Outcome).To(Equal(res.Outcome))
		evidence("record %s: tenant %s, trace %s, tokens %+v, cost %d micro-USD to %s", r.RequestID, r.Tenant, r.TraceID, r.Tokens, r.CostMicroUSD, r.CostCenter)
	}, SpecTimeout(specTimeout))
})
