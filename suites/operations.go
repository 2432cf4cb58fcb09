package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
)

// defaultConvergence is how long workers may take to apply a control-plane change when the
// target declares no bound.
const defaultConvergence = 30 * time.Second

// ops is the target's operations section and the operator key, checked present.
func ops() (control, model, key string, convergence time.Duration) {
	o := env.Target.Operations
	Expect(o).NotTo(BeNil(), "the target declares rollout or artifacts without an operations section")
	Expect(env.Target.Operator).NotTo(BeNil(), "the operator API needs the target's operator credential")
	convergence = o.Convergence
	if convergence == 0 {
		convergence = defaultConvergence
	}
	return o.Control, o.Model, env.Target.Operator.Key, convergence
}

// operator sends one operator-API call and decodes a 2xx answer into out (if not nil).
func operator(ctx context.Context, method, path string, body, out any) int {
	_, _, key, _ := ops()
	var raw []byte
	if body != nil {
		var err error
		raw, err = json.Marshal(body)
		Expect(err).NotTo(HaveOccurred())
	}
	status, hdr, err := env.HTTP.JSON(ctx, method, path, key, raw, nil, out)
	Expect(err).NotTo(HaveOccurred(), "%s %s", method, path)
	Expect(hdr.Get(outcome.HeaderOutcome)).NotTo(BeEmpty(), "operator API response without an outcome")
	return status
}

// pinned is the model's pinned digest as the target declares it.
func pinned(model string) string {
	for _, m := range env.Target.Models {
		if m.Name == model {
			return m.ArtifactDigest
		}
	}
	Fail("the operations model " + model + " is not among the target's models")
	return ""
}

// setDigest rolls model to digest through the operator API.
func setDigest(ctx context.Context, model, digest string) {
	control, _, _, _ := ops()
	status := operator(ctx, http.MethodPut, control+"models/"+model, map[string]string{"artifact_digest": digest}, nil)
	opsCheck(status == http.StatusOK, "the operator API answered %d to rolling %s to %s", status, model, digest)
}

// allOn polls until every worker serving model reports digest for it, within the declared convergence.
func allOn(ctx context.Context, model, digest string) {
	GinkgoHelper()
	_, _, _, convergence := ops()
	var got []string
	ok := opsPoll(ctx, convergence, 100*time.Millisecond, func() bool {
		got = workerDigests(ctx, model)
		for _, w := range got {
			if !strings.HasSuffix(w, "="+digest) {
				return false
			}
		}
		return len(got) > 0
	})
	opsCheck(ok, "workers did not all apply %s within the declared convergence of %s; they report %s", digest, convergence, strings.Join(got, ", "))
}

var _ = Describe("Rollout and rollback", Ordered, func() {
	var model string
	BeforeAll(func(ctx SpecContext) {
		_, model, _, _ = ops()
		allOn(ctx, model, pinned(model))
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, model, pinned(model)); allOn(ctx, model, pinned(model)) })
	})

	// Two full cycles: a runtime that only gets the first rollout right (a digest it pulled
	// before taken as applied, say) is caught by the second. After every step every worker must
	// report the digest and every tenant be served on every client path.
	It("converges every worker on each rollout and rollback, twice over", Req("VER-3"), func(ctx SpecContext) {
		rollout, pin := env.Target.Operations.RolloutDigest, pinned(model)
		explainClientPaths(false)
		r := rng(0x7e3)
		for cycle := 1; cycle <= rolloutCycles; cycle++ {
			step := func(stage, digest string, change func()) {
				start := time.Now()
				change()
				allOn(ctx, model, digest)
				took := time.Since(start).Round(time.Millisecond)
				for _, w := range workerDigests(ctx, model) {
					judged("worker:"+strings.SplitN(w, "=", 2)[0], 1)
				}
				label := fmt.Sprintf("%s %d", stage, cycle)
				for _, s := range serveEveryPath(ctx, r, label) {
					judged(s.path, 1)
					judged("tenant:"+s.tenant.Name, 1)
				}
				judged(stage, 1)
				if cycle > 1 {
					judged("repeat", 1)
				}
				evidence("%s: every worker applied %s in %s; every tenant served on %s", label, digest, took, strings.Join(clientPaths(), ", "))
			}
			step("rollout", rollout, func() { setDigest(ctx, model, rollout) })
			step("rollback", pin, func() { rollbackTo(ctx, model, pin) })
		}
	}, SpecTimeout(3*time.Minute))
})

// rolloutCycles is how many rollout-and-rollback cycles VER-3 runs: the second catches a runtime
// whose state after the first differs from a fresh one.
const rolloutCycles = 2

var _ = Describe("Evidence of the serving artifact", func() {
	It("names the digest the serving worker reports, after a rollout and after a rollback", Req("VER-5"), func(ctx SpecContext) {
		_, model, _, _ := ops()
		rollout, pin := env.Target.Operations.RolloutDigest, pinned(model)
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, model, pin); allOn(ctx, model, pin) })
		allOn(ctx, model, pin)
		explainClientPaths(true)
		r := rng(0x7e5)

		setDigest(ctx, model, rollout)
		allOn(ctx, model, rollout)
		out := append(serveEveryPath(ctx, r, "after the rollout"), batchSamples(ctx, "after the rollout")...)
		after := judgeServedDigests(ctx, "VER-5", "rollout", model, rollout, out)

		back := rollbackTo(ctx, model, pin)
		allOn(ctx, model, pin)
		in := append(serveEveryPath(ctx, r, "after the rollback"), batchSamples(ctx, "after the rollback")...)
		before := judgeServedDigests(ctx, "VER-5", "rollback", model, pin, in)
		evidence("after the rollout to %s, %d requests served by %s named it; after the rollback to revision %d, %d served by %s named %s",
			rollout, len(out), strings.Join(after, ", "), back, len(in), strings.Join(before, ", "), pin)
	}, SpecTimeout(3*time.Minute))
})

var _ = Describe("Invalid artifacts", func() {
	// Refused from the pinned version and again after a rollout: a runtime that falls back to
	// its configuration's pin on a refusal looks right only from the pin.
	It("refuses every invalid artifact with evidence on every worker while the version in service keeps serving", Req("ART-1"), func(ctx SpecContext) {
		_, model, key, convergence := ops()
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, model, pinned(model)); allOn(ctx, model, pinned(model)) })
		workers := modelWorkers(ctx, model) // a worker of another model has no pin of model to refuse
		explainClientPaths(false)
		r := rng(0xa71)
		for _, stage := range []struct{ name, serving string }{{"from-pin", pinned(model)}, {"after-rollout", env.Target.Operations.RolloutDigest}} {
			setDigest(ctx, model, stage.serving)
			allOn(ctx, model, stage.serving)
			for _, bad := range env.Target.Operations.InvalidArtifacts {
				mark := evidenceTail(ctx, key)
				setDigest(ctx, model, bad.Digest)
				// Until every worker has refused it, the invalid artifact must never be reported
				// nor serve: a worker that switches first and verifies afterwards serves it in
				// between. Each poll reads the versions and sends a request to be served meanwhile.
				var missing, reported []string
				recorded := opsPoll(ctx, convergence, 100*time.Millisecond, func() bool {
					for _, w := range workerDigests(ctx, model) {
						if id, ok := strings.CutSuffix(w, "="+bad.Digest); ok && !slices.Contains(reported, id) {
							reported = append(reported, id)
						}
					}
					send(ctx, tenantA().Key, probe(prompt(r, 6), 1, false), nil)
					got := refusalsSince(ctx, key, bad.Digest, mark)
					missing = slices.DeleteFunc(slices.Clone(workers), func(w string) bool { return got[w] > 0 })
					return len(missing) == 0
				})
				opsCheck(recorded, "%s (%s): within %s no artifact_invalid evidence from %s", bad.Name, stage.name, convergence, strings.Join(missing, ", "))
				opsCheck(len(reported) == 0, "%s (%s): before every worker had refused it, %s reported it as the version applied", bad.Name, stage.name, strings.Join(reported, ", "))
				served := servedWithSince(ctx, key, bad.Digest, mark)
				opsCheck(len(served) == 0, "%s (%s): %d requests were served with the invalid artifact before it was refused, e.g. %s", bad.Name, stage.name, len(served), strings.Join(served[:min(3, len(served))], ", "))
				left := slices.ContainsFunc(workerDigests(ctx, model), func(w string) bool { return !strings.HasSuffix(w, "="+stage.serving) })
				opsCheck(!left, "%s (%s): a worker left %s, the version it served; workers report %s", bad.Name, stage.name, stage.serving, workersOn(ctx, model))
				samples := serveEveryPath(ctx, r, bad.Name+" refused")
				judgeServedDigests(ctx, "ART-1", stage.name, model, stage.serving, samples)
				judged("artifact:"+bad.Name, 1)
				evidence("%s (%s), %s: refused by all %d workers; %d requests on every path served by %s", bad.Name, bad.Digest, stage.name, len(workers), len(samples), stage.serving)
			}
		}
	}, SpecTimeout(4*time.Minute))
})

// evidencePage is how many records one operator listing call asks for.
const evidencePage = 1000

// allEvidence is every record of the operator's listing (listEvidence), for specs that read
// records rather than judge the chain's start.
func allEvidence(ctx context.Context, key string) []discovery.Record {
	return listEvidence(ctx, key).records
}

// evidenceLog is the operator's whole listing: its records, and the seq before which the store
// says it dropped records (0: it dropped none, so the chain must start at seq 1).
type evidenceLog struct {
	records         []discovery.Record
	truncatedBefore uint64
}

// listEvidence pages through the operator's listing of every evidence record, until a page comes
// back empty: a runtime whose pages hold fewer records than asked for is read to the end, not
// judged on its first page. A page the listing cannot serve for the moment (502/503: a router
// whose evidence link is reconnecting after a fault, or just restarted) is asked again until the
// declared recovery time has passed: what the specs judge is the records, not the listing's
// availability in the instant after a fault. since is exclusive (the records after SEQ); a record
// at or before it, from a runtime that reads it otherwise, is dropped, and a page with nothing
// past it ends the listing, so a listing that ignores since is not read for ever.
func listEvidence(ctx context.Context, key string) evidenceLog {
	var log evidenceLog
	var since uint64
	for {
		var page discovery.EvidenceList
		path := fmt.Sprintf("%s?since=%d&limit=%d", discovery.PathEvidence, since, evidencePage)
		Expect(evidencePageAt(ctx, path, key, &page)).To(Equal(http.StatusOK), "listing the evidence from seq %d (asked again for %s while it answered 502/503)", since, recoveryTime())
		if since == 0 {
			log.truncatedBefore = page.TruncatedBefore
		}
		fresh := slices.DeleteFunc(page.Records, func(r discovery.Record) bool { return r.Seq <= since })
		if len(fresh) == 0 {
			return log
		}
		log.records = append(log.records, fresh...)
		since = fresh[len(fresh)-1].Seq
	}
}

// problem is why the listing is not one verified chain from its start, "" when it is: the
// chain must begin at seq 1, or where the store says it truncated, or records were lost before
// the first one listed with nothing saying so.
func (l evidenceLog) problem() string {
	if p := chainProblem(l.records); p != "" {
		return p
	}
	if first := l.records[0].Seq; first > max(l.truncatedBefore, 1) {
		from := max(l.truncatedBefore, 1)
		return fmt.Sprintf("the listing starts at seq %d, but the store says it dropped only what came before seq %d (truncated_before %d): records %d..%d are missing", first, from, l.truncatedBefore, from, first-1)
	}
	return ""
}

// instanceOf is worker id's reported instance and digest of model, "" while it is not healthy.
func instanceOf(ctx context.Context, id, model string) string {
	w, ok := versionsOf(ctx, id)
	return instanceIn(w, ok, model)
}

// instanceIn is the instance and digest of model in w (what the versions endpoint listed for a
// worker, listed says it did), "" when it is not listed or not healthy.
func instanceIn(w discovery.WorkerVersions, listed bool, model string) string {
	if !listed || !w.Healthy {
		return ""
	}
	for _, a := range w.Artifacts {
		if a.Model == model {
			return w.Instance + "@" + a.Digest
		}
	}
	return ""
}

// versionsOf is what the versions endpoint says of worker id, false when it does not list it.
func versionsOf(ctx context.Context, id string) (discovery.WorkerVersions, bool) {
	var v discovery.Versions
	Expect(getJSON(ctx, discovery.PathVersions, tenantA().Key, &v)).To(Equal(http.StatusOK))
	for _, w := range v.Workers {
		if w.Worker == id {
			return w, true
		}
	}
	return discovery.WorkerVersions{}, false
}

// versionsText says in one line what the versions endpoint listed for worker id (w, listed
// says whether it was), for a failure message: healthy or why not, its instance and artifacts.
func versionsText(id string, w discovery.WorkerVersions, listed bool) string {
	if !listed {
		return "the versions endpoint does not list " + id
	}
	why := ""
	if w.HealthReason != "" {
		why = " (" + w.HealthReason + ")"
	}
	return fmt.Sprintf("the versions endpoint lists %s healthy %t%s, instance %q, artifacts %v", id, w.Healthy, why, w.Instance, w.Artifacts)
}

// servingProbes is how many requests VER-4 sends to learn which workers serve tenant A before
// the replacements: with prompts that differ from the first word, each serving worker gets some.
const servingProbes = 16

// servingWorkers are the workers that serve tenant A's requests now.
func servingWorkers(ctx context.Context, r *rand.Rand) map[string]bool {
	out := map[string]bool{}
	for range servingProbes {
		res := send(ctx, tenantA().Key, probe(prompt(r, 8), 2, false), nil)
		if res.Outcome.Served() && res.ServedBy.Worker != "" {
			out[res.ServedBy.Worker] = true
		}
	}
	return out
}

var _ = Describe("Replaced workers", func() {
	// Every worker in turn, each region and role: a replacement path that differs for a standby
	// region's worker or a prefill worker is a bug the first worker alone never shows.
	It("come back as new instances on the control plane's pinned version", Req("VER-4"), func(ctx SpecContext) {
		control, model, _, convergence := ops()
		rollout := env.Target.Operations.RolloutDigest
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, model, pinned(model)); allOn(ctx, model, pinned(model)) })
		setDigest(ctx, model, rollout)
		allOn(ctx, model, rollout)
		r := rng(0x7e4)
		serving := servingWorkers(ctx, r)
		vs := versionsNow(ctx)
		held := heldWorkers(vs, model)
		for _, w := range vs {
			id := w.Worker
			if !held[id] && servesOthersOnly(w, model) {
				continue // not a worker of the operations model: its pin is not the one rolled out
			}
			before := instanceOf(ctx, id, model)
			opsCheck(before != "", "worker %s is not healthy before the replacement", id)
			start := time.Now()
			status := operator(ctx, http.MethodPost, control+"workers/"+id+"/replace", nil, nil)
			opsCheck(status == http.StatusOK, "the operator API answered %d to replacing %s", status, id)
			var after string
			back := opsPoll(ctx, convergence, 50*time.Millisecond, func() bool {
				after = instanceOf(ctx, id, model)
				return after != "" && after != before
			})
			opsCheck(back, "worker %s (instance %s) did not come back healthy as a new instance within %s", id, before, convergence)
			opsCheck(strings.HasSuffix(after, "@"+rollout), "worker %s (%s) came back as instance %s on another version than the control plane's pin %s", id, w.Region, after, rollout)
			res := send(ctx, tenantA().Key, probe("served after replacing "+id+"? "+prompt(r, 4), 2, false), nil)
			opsCheck(res.Outcome.Served(), "after replacing %s a request ended %s/%s", id, res.Outcome, res.Reason)
			if serving[id] {
				// A worker that served before must serve again: a replacement the router never
				// takes back into rotation is a worker lost, not replaced.
				tries := 0
				again := opsPoll(ctx, convergence, 20*time.Millisecond, func() bool {
					tries++
					return send(ctx, tenantA().Key, probe(prompt(r, 8), 2, false), nil).ServedBy.Worker == id
				})
				opsCheck(again, "replaced worker %s served none of %d requests within %s, though it served before the replacement", id, tries, convergence)
				judged("serves:"+id, 1)
			}
			judged("worker:"+id, 1)
			judged("region:"+w.Region, 1)
			role := w.Role
			if role == "" {
				role = "mixed"
			}
			judged("role:"+role, 1)
			evidence("worker %s (%s, %s) replaced (%s -> %s) in %s, back on the pinned %s", id, w.Region, role, before, after, time.Since(start).Round(time.Millisecond), rollout)
		}
	}, SpecTimeout(3*time.Minute))
})

// evidencePageAt gets one page of the listing into page, asking again while the answer is
// transient (see allEvidence), and returns the last status.
func evidencePageAt(ctx context.Context, path, key string, page *discovery.EvidenceList) int {
	status := getJSON(ctx, path, key, page)
	for limit := time.Now().Add(recoveryTime()); transientStatus(status) && time.Now().Before(limit) && sleepCtx(ctx, 250*time.Millisecond); {
		*page = discovery.EvidenceList{}
		status = getJSON(ctx, path, key, page)
	}
	return status
}

// transientStatus is a listing's answer that says "not now" rather than "no": a gateway or
// dependency that is reconnecting.
func transientStatus(status int) bool {
	return status == http.StatusBadGateway || status == http.StatusServiceUnavailable
}
