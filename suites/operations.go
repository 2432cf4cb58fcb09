package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
	Expect(operator(ctx, http.MethodPut, control+"models/"+model, map[string]string{"artifact_digest": digest}, nil)).
		To(Equal(http.StatusOK), "rolling %s to %s", model, digest)
}

// workerDigests is what every worker reports for model.
func workerDigests(ctx context.Context, model string) []string {
	var v discovery.Versions
	Expect(getJSON(ctx, discovery.PathVersions, tenantA().Key, &v)).To(Equal(http.StatusOK))
	var out []string
	for _, w := range v.Workers {
		d := ""
		for _, a := range w.Artifacts {
			if a.Model == model {
				d = a.Digest
			}
		}
		out = append(out, w.Worker+"="+d)
	}
	return out
}

// allOn polls until every worker reports digest for model.
func allOn(ctx context.Context, model, digest string) {
	_, _, _, convergence := ops()
	Eventually(func() []string { return workerDigests(ctx, model) }).WithContext(ctx).
		WithTimeout(convergence).WithPolling(100*time.Millisecond).
		Should(HaveEach(HaveSuffix("="+digest)), "workers did not all apply %s within %s", digest, convergence)
}

var _ = Describe("Rollout and rollback", Ordered, func() {
	var control, model string
	BeforeAll(func(ctx SpecContext) {
		control, model, _, _ = ops()
		allOn(ctx, model, pinned(model))
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, model, pinned(model)); allOn(ctx, model, pinned(model)) })
	})

	It("converges every worker on a rolled-out digest", Req("VER-3"), func(ctx SpecContext) {
		start := time.Now()
		setDigest(ctx, model, env.Target.Operations.RolloutDigest)
		allOn(ctx, model, env.Target.Operations.RolloutDigest)
		evidence("every worker applied %s in %s", env.Target.Operations.RolloutDigest, time.Since(start).Round(time.Millisecond))
		res := send(ctx, tenantA().Key, probe("served by the new version?", 2, false), nil)
		Expect(res.Outcome.Served()).To(BeTrue(), describe(res))
	}, SpecTimeout(2*time.Minute))

	It("rolls back to the earlier revision", Req("VER-3"), func(ctx SpecContext) {
		var hist struct {
			Entries []struct {
				Revision uint64          `json:"revision"`
				Value    json.RawMessage `json:"value"`
			} `json:"entries"`
		}
		Expect(operator(ctx, http.MethodGet, control+"models/"+model+"/history", nil, &hist)).To(Equal(http.StatusOK))
		var back uint64
		for _, e := range hist.Entries {
			var doc struct {
				ArtifactDigest string `json:"artifact_digest"`
			}
			if json.Unmarshal(e.Value, &doc) == nil && doc.ArtifactDigest == pinned(model) {
				back = e.Revision
			}
		}
		Expect(back).NotTo(BeZero(), "no revision with the pinned digest in the history")
		start := time.Now()
		Expect(operator(ctx, http.MethodPost, control+"models/"+model+"/rollback", map[string]uint64{"revision": back}, nil)).To(Equal(http.StatusOK))
		allOn(ctx, model, pinned(model))
		evidence("rollback to revision %d: every worker back on %s in %s", back, pinned(model), time.Since(start).Round(time.Millisecond))
	}, SpecTimeout(2*time.Minute))
})

var _ = Describe("Invalid artifacts", func() {
	It("refuses every invalid artifact with evidence while the old version serves", Req("ART-1"), func(ctx SpecContext) {
		_, model, key, convergence := ops()
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, model, pinned(model)); allOn(ctx, model, pinned(model)) })
		workers := len(workerDigests(ctx, model))
		for _, bad := range env.Target.Operations.InvalidArtifacts {
			setDigest(ctx, model, bad.Digest)
			Eventually(func() int { return refusals(ctx, key, bad.Digest) }).WithContext(ctx).WithTimeout(convergence).
				WithPolling(100*time.Millisecond).Should(BeNumerically(">=", workers), "%s: not every worker recorded artifact_invalid", bad.Name)
			Expect(workerDigests(ctx, model)).To(HaveEach(HaveSuffix("="+pinned(model))), "%s: a worker left the pinned version", bad.Name)
			res := send(ctx, tenantA().Key, probe("still serving?", 2, false), nil)
			Expect(res.Outcome.Served()).To(BeTrue(), "%s: %s", bad.Name, describe(res))
			evidence("%s (%s): refused by all %d workers, the pinned version served", bad.Name, bad.Digest, workers)
			setDigest(ctx, model, pinned(model))
		}
	}, SpecTimeout(3*time.Minute))
})

// refusals counts artifact_invalid evidence records for digest in the operator's listing.
func refusals(ctx context.Context, key, digest string) int {
	n := 0
	for _, r := range allEvidence(ctx, key) {
		if r.Reason == outcome.ReasonArtifactInvalid && r.ArtifactDigest == digest {
			n++
		}
	}
	return n
}

// evidencePage is how many records one operator listing call asks for.
const evidencePage = 1000

// allEvidence pages through the operator's listing of every evidence record.
func allEvidence(ctx context.Context, key string) []discovery.Record {
	var all []discovery.Record
	var since uint64
	for {
		var page discovery.EvidenceList
		path := fmt.Sprintf("%s?since=%d&limit=%d", discovery.PathEvidence, since, evidencePage)
		Expect(getJSON(ctx, path, key, &page)).To(Equal(http.StatusOK))
		all = append(all, page.Records...)
		if len(page.Records) < evidencePage {
			return all
		}
		since = page.Records[len(page.Records)-1].Seq
	}
}

// instanceOf is worker id's reported instance and digest of model, "" while it is not healthy.
func instanceOf(ctx context.Context, id, model string) string {
	var v discovery.Versions
	Expect(getJSON(ctx, discovery.PathVersions, tenantA().Key, &v)).To(Equal(http.StatusOK))
	for _, w := range v.Workers {
		if w.Worker != id || !w.Healthy {
			continue
		}
		for _, a := range w.Artifacts {
			if a.Model == model {
				return w.Instance + "@" + a.Digest
			}
		}
	}
	return ""
}

var _ = Describe("Replaced workers", func() {
	It("come back as new instances on the control plane's pinned version", Req("VER-4"), func(ctx SpecContext) {
		control, model, _, convergence := ops()
		rollout := env.Target.Operations.RolloutDigest
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, model, pinned(model)); allOn(ctx, model, pinned(model)) })
		setDigest(ctx, model, rollout)
		allOn(ctx, model, rollout)
		var v discovery.Versions
		Expect(getJSON(ctx, discovery.PathVersions, tenantA().Key, &v)).To(Equal(http.StatusOK))
		Expect(v.Workers).NotTo(BeEmpty())
		id := v.Workers[0].Worker
		before := instanceOf(ctx, id, model)
		Expect(before).NotTo(BeEmpty(), "worker %s is not healthy before the replacement", id)
		start := time.Now()
		Expect(operator(ctx, http.MethodPost, control+"workers/"+id+"/replace", nil, nil)).To(Equal(http.StatusOK))
		Eventually(func() string { return instanceOf(ctx, id, model) }).WithContext(ctx).WithTimeout(convergence).
			WithPolling(50*time.Millisecond).Should(SatisfyAll(Not(Equal(before)), Not(BeEmpty())), "worker %s did not come back as a new instance", id)
		after := instanceOf(ctx, id, model)
		Expect(after).To(HaveSuffix("@"+rollout), "the replaced worker came back on another version than the pinned %s", rollout)
		res := send(ctx, tenantA().Key, probe("served after the replacement?", 2, false), nil)
		Expect(res.Outcome.Served()).To(BeTrue(), describe(res))
		evidence("worker %s replaced (%s -> %s) in %s, back on the pinned %s", id, before, after, time.Since(start).Round(time.Millisecond), rollout)
	}, SpecTimeout(2*time.Minute))
})
