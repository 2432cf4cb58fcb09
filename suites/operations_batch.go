package suites

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/target"
)

// redeliveryRefusalWait bounds how long the batch spec waits, with every device under pressure,
// for the runtime to refuse the first delivery of its jobs (each is refused within a few
// scheduling rounds of the queue).
const redeliveryRefusalWait = 10 * time.Second

// redeliveryCompletion bounds how long a batch whose jobs were refused once may take to complete
// after the pressure clears: the queue's back-off between deliveries plus the jobs themselves.
const redeliveryCompletion = 90 * time.Second

// judgeBatchResults checks that every job of done has exactly one result, that each result's one
// evidence record names tenant t and agrees with it (a result that says served rests on a served
// record), and returns how many jobs were judged.
func judgeBatchResults(ctx context.Context, t target.Tenant, done batchObject, label string) int {
	opsCheck(done.Counts.Total == batchJobs, "%s: batch %s counts %d jobs, %d were submitted", label, done.ID, done.Counts.Total, batchJobs)
	opsCheck(done.Counts.Completed+done.Counts.Failed == batchJobs, "%s: batch %s completed with %d of %d jobs ended", label, done.ID, done.Counts.Completed+done.Counts.Failed, batchJobs)
	seen := map[string]bool{}
	for _, o := range done.Output {
		opsCheck(!seen[o.CustomID], "%s: job %s of batch %s has two results", label, o.CustomID, done.ID)
		seen[o.CustomID] = true
		recs := evidenceFor(ctx, t.Key, o.Response.RequestID)
		opsCheck(len(recs) == 1, "%s: the result of job %s names request %s, which has %d evidence records, not one", label, o.CustomID, o.Response.RequestID, len(recs))
		rec := recs[0]
		opsCheck(rec.Tenant == t.Name, "%s: job %s ran as %q, not as %s who submitted it", label, o.CustomID, rec.Tenant, t.Name)
		servedResult := o.Response.StatusCode == http.StatusOK
		opsCheck(servedResult == rec.Outcome.Served(),
			"%s: job %s's result says status %d, but the evidence record of its request %s says %s/%s: the result and the record describe different attempts",
			label, o.CustomID, o.Response.StatusCode, o.Response.RequestID, rec.Outcome, rec.Reason)
		opsCheck(servedResult, "%s: job %s ended with status %d (%s/%s)", label, o.CustomID, o.Response.StatusCode, rec.Outcome, rec.Reason)
	}
	opsCheck(len(seen) == batchJobs, "%s: batch %s has results for %d of %d jobs", label, done.ID, len(seen), batchJobs)
	return len(seen)
}

// batchSettle bounds how long the chain may take to settle after a batch completes before the
// records of its runs are counted.
const batchSettle = 10 * time.Second

// extraJobRuns lists the records of tenant t after seq that belong to done's jobs but to none of
// their results (a job run again under a request id of its own: the batch lists one result each,
// so only the chain shows the second run), once the records of done's results are in and the
// chain has been quiet for chainQuiet (a job run again after the batch completed writes its record
// then). Other records of t, an earlier spec's late ones or another batch's, are not the batch's
// (chainCount.strayJobs). ok is false when no record can be told to be a job's.
func extraJobRuns(ctx context.Context, t target.Tenant, seq uint64, done batchObject) (extra []string, ok bool) {
	ids := make([]string, 0, len(done.Output))
	for _, o := range done.Output {
		ids = append(ids, o.Response.RequestID)
	}
	return settledChain(ctx, env.Target.Operator.Key, ids, batchSettle).strayJobs(seq, t.Name, ids, nil)
}

// refusedJobsSince counts the device_pressure refusals in evidence after seq. The spec is Serial
// and only t's batch runs, so each is a refusal of t's job: one naming another tenant, or none,
// fails the spec (counting only those naming t would take a runtime whose refusal records name
// nobody for one that refused nothing, and leave redelivery unprobed).
func refusedJobsSince(ctx context.Context, t target.Tenant, seq uint64) int {
	n := 0
	for _, r := range allEvidence(ctx, env.Target.Operator.Key) {
		if r.Seq > seq && r.Reason == outcome.ReasonDevicePressure {
			opsCheck(r.Tenant == t.Name, "request %s, refused device_pressure while only %s's batch ran, has an evidence record naming tenant %q", r.RequestID, t.Name, r.Tenant)
			n++
		}
	}
	return n
}

// batchRedelivery submits a batch while every device is under pressure, so the first delivery of
// its jobs is refused and the queue delivers them again once the pressure clears, and judges the
// results. It returns the jobs judged and the refusals seen, or says why it could not probe.
func batchRedelivery(ctx context.Context, t target.Tenant) (jobs, refused int, why string) {
	if env.Target.Devices == nil || env.Target.Devices.Hook == "" || env.Target.Operator == nil {
		return 0, 0, "the target declares no device hook with which to refuse a first delivery"
	}
	mark := evidenceTail(ctx, env.Target.Operator.Key)
	pressureAll(ctx)
	status, sub := submitBatch(ctx, t.Key, fmt.Sprintf("arcert-bat1-redeliver-%d-%d", env.Seed, time.Now().UnixNano()), nil, t.Name)
	opsCheck(status == http.StatusOK, "submitting a batch under device pressure: status %d", status)
	opsPoll(ctx, redeliveryRefusalWait, 100*time.Millisecond, func() bool {
		refused = refusedJobsSince(ctx, t, mark)
		return refused >= batchJobs
	})
	clearDevices(ctx)
	if refused == 0 {
		return 0, 0, fmt.Sprintf("no job's first delivery was refused within %s of device pressure", redeliveryRefusalWait)
	}
	done := awaitBatchWithin(ctx, t.Key, sub.ID, redeliveryCompletion)
	return judgeBatchResults(ctx, t, done, "redelivered"), refused, ""
}
