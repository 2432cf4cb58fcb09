package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/conformance/driver"
)

var _ = Describe("Evidence", func() {
	// Concurrent waves on every client path and tenant, refusals and a batch among them, so the
	// evidence service appends records in groups: a chain written one record at a time never
	// shows a link computed wrongly inside a group.
	It("keeps exactly one record per request and a chain that verifies", Req("EVD-1"), func(ctx SpecContext) {
		Expect(env.Target.Operator).NotTo(BeNil(), "the chain is read through the operator's listing")
		r := rng(17)
		a := tenantA()
		explainClientPaths(true)
		var batchID string
		if hasBatchAPI() {
			status, sub := submitBatch(ctx, a.Key, fmt.Sprintf("arcert-evd-%d-%d", env.Seed, time.Now().UnixNano()), nil, a.Name)
			opsCheck(status == http.StatusOK, "submitting a batch was answered %d", status)
			batchID = sub.ID
		}
		var sent []evdSent
		for wave := range evdWaves {
			sent = append(sent, evidenceBurst(ctx, r, wave)...)
		}
		if batchID != "" {
			for _, o := range awaitBatch(ctx, a.Key, batchID).Output {
				sent = append(sent, evdSent{path: opsBatch, tenant: a, id: o.Response.RequestID})
			}
		}
		looked := make([]discovery.Record, len(sent))
		for i, s := range sent {
			recs := evidenceFor(ctx, evdReader(s), s.id)
			opsCheck(len(recs) == 1, "request %s (%s as %q) has %d evidence records, not one", s.id, s.path, s.tenant.Name, len(recs))
			opsCheck(recs[0].Tenant == s.tenant.Name, "the evidence of request %s (%s as %q) names tenant %q", s.id, s.path, s.tenant.Name, recs[0].Tenant)
			if op := env.Target.Operator.Key; evdReader(s) != op {
				// Compared with the chain as the operator reads both: a tenant's view may leave
				// out the chain's fields.
				recs = evidenceFor(ctx, op, s.id)
			}
			looked[i] = recs[0]
		}
		log := listEvidence(ctx, env.Target.Operator.Key)
		all := log.records
		problem := log.problem()
		opsCheck(problem == "", "the evidence chain of %d records does not verify after %d concurrent requests: %s", len(all), len(sent), problem)
		// The record a lookup by request id finds must be the one the chain holds: a runtime that
		// indexes records apart from its chain can answer every lookup while leaving some out.
		chained := map[string][]discovery.Record{}
		for _, r := range all {
			chained[r.RequestID] = append(chained[r.RequestID], r)
		}
		for i, s := range sent {
			in := chained[s.id]
			opsCheck(len(in) == 1 && in[0].Seq == looked[i].Seq && in[0].Hash == looked[i].Hash,
				"request %s (%s as %q): the record found by its id (seq %d, %s) is not the chain's: the chain holds %s",
				s.id, s.path, s.tenant.Name, looked[i].Seq, looked[i].Hash, seqsOf(in))
		}
		for _, s := range sent {
			judged(s.path, 1)
			if s.tenant.Name != "" {
				judged("tenant:"+s.tenant.Name, 1)
			}
		}
		judged("concurrent", len(sent))
		evidence("%d requests in %d concurrent waves and a batch, one record each, each the chain's; the chain of %d records (seq %d..%d) verifies",
			len(sent), evdWaves, len(all), all[0].Seq, all[len(all)-1].Seq)
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
	// First delivery, and redelivery after the first delivery was refused (device pressure on
	// every worker): a result recorded for the wrong attempt shows only on the second.
	It("completes each job exactly once, once per idempotency key, on first delivery and redelivery", Serial, Req("BAT-1"), func(ctx SpecContext) {
		DeferCleanup(func(ctx SpecContext) {
			if env.Target.Devices != nil && env.Target.Devices.Hook != "" {
				clearDevices(ctx)
			}
		})
		a := tenantA()
		var mark uint64
		if env.Target.Operator != nil {
			mark = evidenceTail(ctx, env.Target.Operator.Key)
		}
		idem := fmt.Sprintf("arcert-%d-%d", env.Seed, time.Now().UnixNano())
		status, first := submitBatch(ctx, a.Key, idem, nil, a.Name)
		Expect(status).To(Equal(http.StatusOK))
		_, again := submitBatch(ctx, a.Key, idem, nil, a.Name)
		opsCheck(again.ID == first.ID, "the same idempotency key queued a second batch (%s after %s)", again.ID, first.ID)
		judged("idempotency", 1)
		done := awaitBatch(ctx, a.Key, first.ID)
		n := judgeBatchResults(ctx, a, done, "first delivery")
		judged("first-delivery", n)
		judged("tenant:"+a.Name, n)
		// Queued once means run once: a runtime that answers the repeat with the first batch but
		// queues its jobs again shows one result each, while every job ran, and was billed, twice.
		if env.Target.Operator == nil {
			notProbed("idempotency:runs", "the target declares no operator to list evidence with, so how often each job ran cannot be counted")
		} else if extra, ok := extraJobRuns(ctx, a, mark, done); !ok {
			notProbed("idempotency:runs", "the jobs' request ids share no prefix or class by which a second run could be told in the evidence")
		} else {
			opsCheck(len(extra) == 0, "batch %s, %d jobs submitted twice under one idempotency key, ran more than once: %s",
				first.ID, batchJobs, strings.Join(extra[:min(3, len(extra))], "; "))
			judged("idempotency:runs", batchJobs)
		}
		// Keys are the tenant's own: another tenant using the same key gets its own batch.
		b := tenantB()
		status, other := submitBatch(ctx, b.Key, idem, nil, b.Name)
		opsCheck(status == http.StatusOK, "%s's batch under the idempotency key %s already used by %s was answered %d", b.Name, idem, a.Name, status)
		opsCheck(other.ID != first.ID, "%s's batch under %s's idempotency key was answered with %s's batch %s", b.Name, a.Name, a.Name, first.ID)
		n = judgeBatchResults(ctx, b, awaitBatch(ctx, b.Key, other.ID), "another tenant's first delivery")
		judged("first-delivery", n)
		judged("tenant:"+b.Name, n)

		jobs, refused, why := batchRedelivery(ctx, a)
		if why != "" {
			notProbed("redelivery", "%s", why)
		}
		judged("redelivery", jobs)
		evidence("batch %s: %d jobs, one result and one matching evidence record each; under device pressure %d first deliveries were refused and all %d jobs completed once on redelivery",
			first.ID, batchJobs, refused, jobs)
	}, SpecTimeout(3*time.Minute))
})

// seqsOf names records by seq for a message: "no record", or "seq 4, seq 9".
func seqsOf(recs []discovery.Record) string {
	if len(recs) == 0 {
		return "no record"
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = fmt.Sprintf("seq %d", r.Seq)
	}
	return strings.Join(out, ", ")
}
