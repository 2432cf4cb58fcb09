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
	"github.com/aruntime/arcert/conformance/driver"
)

// evidenceRequests is how many requests the evidence-completeness spec sends and traces.
const evidenceRequests = 20

var _ = Describe("Evidence", func() {
	It("keeps exactly one record per request and a chain that verifies", Req("EVD-1"), func(ctx SpecContext) {
		Expect(env.Target.Operator).NotTo(BeNil(), "the chain is read through the operator's listing")
		a := tenantA()
		r := rng(17)
		var ids []string
		for range evidenceRequests {
			res := send(ctx, a.Key, probe(prompt(r, 6), 2, false), nil)
			Expect(res.RequestID).NotTo(BeEmpty())
			ids = append(ids, res.RequestID)
		}
		for _, id := range ids {
			Expect(evidenceFor(ctx, a.Key, id)).To(HaveLen(1), "request %s", id)
		}
		all := allEvidence(ctx, env.Target.Operator.Key)
		Expect(all).NotTo(BeEmpty())
		Expect(discovery.VerifyChain(all)).To(Succeed())
		evidence("%d requests, one record each; the chain of %d records (seq %d..%d) verifies", len(ids), len(all), all[0].Seq, all[len(all)-1].Seq)
	}, SpecTimeout(2*time.Minute))
})

// batchObject is what the specs read of a batch (the arcert batch contract v1, OpenAI's shape).
type batchObject struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Counts struct {
		Total     int `json:"total"`
		Completed int `json:"completed"`
		Failed    int `json:"failed"`
	} `json:"request_counts"`
	Output []struct {
		CustomID string `json:"custom_id"`
		Response struct {
			StatusCode int    `json:"status_code"`
			RequestID  string `json:"request_id"`
		} `json:"response"`
	} `json:"output"`
}

// batchJobs is how many jobs the batch specs submit.
const batchJobs = 6

// submitBatch posts a batch as key with an idempotency key and extra headers.
func submitBatch(ctx context.Context, key, idem string, hdr http.Header, user string) (int, batchObject) {
	var reqs []map[string]any
	for i := range batchJobs {
		body := map[string]any{"model": model().Name, "max_tokens": 4, "user": user, "cache_salt": user,
			"messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("tenant: %s. job %d", user, i)}}}
		reqs = append(reqs, map[string]any{"custom_id": fmt.Sprintf("job-%d", i), "body": body})
	}
	raw, err := json.Marshal(map[string]any{"endpoint": driver.PathChatCompletions, "requests": reqs})
	Expect(err).NotTo(HaveOccurred())
	h := http.Header{"Idempotency-Key": {idem}}
	for k, v := range hdr {
		h[k] = v
	}
	var b batchObject
	status, _, err := env.HTTP.PostJSON(ctx, "/v1/batches", key, raw, h, &b)
	Expect(err).NotTo(HaveOccurred())
	return status, b
}

// awaitBatch polls the batch until it completes.
func awaitBatch(ctx context.Context, key, id string) batchObject {
	return awaitBatchWithin(ctx, key, id, time.Minute)
}

// awaitBatchWithin polls the batch until it completes, for at most d, and says how far it got.
func awaitBatchWithin(ctx context.Context, key, id string, d time.Duration) batchObject {
	var b batchObject
	Eventually(func() string {
		Expect(getJSON(ctx, "/v1/batches/"+id, key, &b)).To(Equal(http.StatusOK))
		return b.Status
	}).WithContext(ctx).WithTimeout(d).WithPolling(100*time.Millisecond).Should(Equal("completed"),
		func() string {
			return fmt.Sprintf("batch %s not completed within %s: %s with %d of %d jobs done", id, d, b.Status, b.Counts.Completed+b.Counts.Failed, b.Counts.Total)
		})
	return b
}

var _ = Describe("Batch jobs", func() {
	It("completes each job exactly once, once per idempotency key", Req("BAT-1"), func(ctx SpecContext) {
		a := tenantA()
		idem := fmt.Sprintf("arcert-%d-%d", env.Seed, time.Now().UnixNano())
		status, first := submitBatch(ctx, a.Key, idem, nil, a.Name)
		Expect(status).To(Equal(http.StatusOK))
		_, again := submitBatch(ctx, a.Key, idem, nil, a.Name)
		Expect(again.ID).To(Equal(first.ID), "the same idempotency key queued a second batch")
		done := awaitBatch(ctx, a.Key, first.ID)
		Expect(done.Counts.Total).To(Equal(batchJobs))
		Expect(done.Counts.Completed + done.Counts.Failed).To(Equal(batchJobs))
		seen := map[string]bool{}
		for _, o := range done.Output {
			Expect(seen).NotTo(HaveKey(o.CustomID), "job %s has two results", o.CustomID)
			seen[o.CustomID] = true
			Expect(evidenceFor(ctx, a.Key, o.Response.RequestID)).To(HaveLen(1), "job %s", o.CustomID)
		}
		Expect(seen).To(HaveLen(batchJobs))
		evidence("batch %s: %d jobs, %d completed, one result and one evidence record each", first.ID, done.Counts.Total, done.Counts.Completed)
	}, SpecTimeout(2*time.Minute))
})
