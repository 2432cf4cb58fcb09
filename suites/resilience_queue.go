package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// Sizes of the queue-outage batches: enough jobs of enough tokens that the first batch is still
// running when the queue is cut.
const (
	queueJobs      = 16
	queueJobTokens = 32
	// queueOutage is longer than a JetStream request's own timeout (5 s), so work caught in the
	// outage cannot simply wait it out inside the client library: the runtime must redeliver it.
	queueOutage = 8 * time.Second
)

// submitJobs posts a batch of n jobs of maxTokens each and returns the status, the outcome and
// reason the runtime stated and the batch.
func submitJobs(ctx context.Context, t target.Tenant, idem string, n, maxTokens int) (int, outcome.Class, outcome.Reason, batchObject) {
	var reqs []map[string]any
	for i := range n {
		body := map[string]any{"model": model().Name, "max_tokens": maxTokens,
			"messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("queue outage job %d of %s", i, idem)}}}
		reqs = append(reqs, map[string]any{"custom_id": fmt.Sprintf("job-%d", i), "body": body})
	}
	raw, err := json.Marshal(map[string]any{"endpoint": driver.PathChatCompletions, "requests": reqs})
	Expect(err).NotTo(HaveOccurred())
	var b batchObject
	status, hdr, err := env.HTTP.PostJSON(ctx, "/v1/batches", t.Key, raw, http.Header{"Idempotency-Key": {idem}}, &b)
	Expect(err).NotTo(HaveOccurred(), "submitting a batch: the runtime must answer, even with its queue away")
	return status, outcome.Class(hdr.Get(outcome.HeaderOutcome)), outcome.Reason(hdr.Get(outcome.HeaderReason)), b
}

// expectOnce checks that a completed batch has one served result per job and one evidence
// record each, and returns how many jobs it judged.
func expectOnce(ctx context.Context, t target.Tenant, b batchObject, jobs int) int {
	GinkgoHelper()
	judgeThat(b.Counts.Total == jobs, "batch %s counts %d jobs, not the %d submitted", b.ID, b.Counts.Total, jobs)
	judgeThat(b.Counts.Failed == 0, "batch %s: %d jobs ended failed; a fault the runtime recovered from must not fail accepted work", b.ID, b.Counts.Failed)
	seen := map[string]bool{}
	for _, o := range b.Output {
		judgeThat(o.Response.StatusCode == http.StatusOK, "job %s of batch %s ended with status %d", o.CustomID, b.ID, o.Response.StatusCode)
		judgeThat(!seen[o.CustomID], "job %s of batch %s has two results", o.CustomID, b.ID)
		seen[o.CustomID] = true
		recs := awaitRecords(ctx, t.Key, o.Response.RequestID, evidenceWait)
		judgeThat(len(recs) == 1, "job %s of batch %s (%s) has %d evidence records, not one", o.CustomID, b.ID, o.Response.RequestID, len(recs))
	}
	judgeThat(len(seen) == jobs, "batch %s has results for %d of its %d jobs", b.ID, len(seen), jobs)
	return len(seen)
}

// queueAnswers are the answers a batch submitted while the queue is away may get: accepted (it
// must then complete exactly once), or refused for the outage; never a refusal that blames the
// caller, nor an internal error.
var queueAnswers = []outcome.Reason{outcome.ReasonDependencyUnavailable, outcome.ReasonQueueFull, outcome.ReasonCapacity}

var _ = Describe("Queue outage", Serial, Label("fault:queue"), func() {
	It("answers in time while the queue is away and completes every accepted job exactly once", Req("DUR-2", "FLT-1"), func(ctx SpecContext) {
		if !needLinks(link.RoleQueue, "") {
			return
		}
		DeferCleanup(noResidue)
		a := tenantA()
		run := fmt.Sprintf("arcert-queue-%d-%d", env.Seed, time.Now().UnixNano())
		status, _, _, first := submitJobs(ctx, a, run+"-before", queueJobs, queueJobTokens)
		Expect(status).To(Equal(http.StatusOK), "a batch before the outage")
		// Cut once some jobs are done (their first delivery) and others are still to run, so the
		// outage meets both.
		var now batchObject
		Eventually(func() int {
			Expect(getJSON(ctx, "/v1/batches/"+first.ID, a.Key, &now)).To(Equal(http.StatusOK))
			return now.Counts.Completed
		}).WithContext(ctx).WithTimeout(tenantDeadline(a)).WithPolling(20 * time.Millisecond).Should(BeNumerically(">", 0))
		if now.Status == "completed" || now.Counts.Completed >= queueJobs {
			invalid("batch %s completed before the queue was cut: the outage could not hit it", first.ID)
			return
		}
		heal := inject(link.RoleQueue, "", fault.Fault{Kind: fault.Down})
		cut := time.Now()
		status2, class2, reason, during := submitJobs(ctx, a, run+"-during", queueJobs/4, 4)
		took := time.Since(cut)
		Expect(class2.Valid()).To(BeTrue(), "a batch submitted during the outage got outcome %q (status %d)", class2, status2)
		Expect(took).To(BeNumerically("<=", tenantDeadline(a)+deadlineGrace), "a batch submitted during the outage took %s to be answered, past the deadline of %s and the tolerance of %s", took, tenantDeadline(a), deadlineGrace)
		if status2 != http.StatusOK {
			Expect(queueAnswers).To(ContainElement(reason), "a batch submitted during the queue outage was refused %d %s/%s, not for the outage", status2, class2, reason)
		}
		sleepCtx(ctx, queueOutage-took)
		Expect(heal()).To(Succeed())
		done := expectJobsDone(ctx, a, first.ID, "running when the queue was cut", recoveryTime())
		expectOnce(ctx, a, done, queueJobs)
		judgedFor("DUR-2", "first-delivery", now.Counts.Completed)
		judgedFor("DUR-2", "redelivery", queueJobs-now.Counts.Completed)
		judgedFor("DUR-2", "refusal", 1)
		judgedFor("FLT-1", string(link.RoleQueue), 1)
		msg := fmt.Sprintf("batch %s (%d jobs, %d done) was %s when the queue was cut for %s; it completed with every job once; a batch submitted during the outage was answered %d %s/%s in %s",
			first.ID, queueJobs, now.Counts.Completed, now.Status, queueOutage, status2, class2, reason, took.Round(time.Millisecond))
		if status2 == http.StatusOK {
			n := expectOnce(ctx, a, expectJobsDone(ctx, a, during.ID, "accepted during the outage", recoveryTime()), queueJobs/4)
			judgedFor("DUR-2", "first-delivery", n)
			msg += ", and it too completed exactly once"
		} else {
			judgedFor("FLT-1", "refusal", 1)
		}
		evidence("%s", msg)
	}, SpecTimeout(3*time.Minute))
})
