package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// outageAnswer is what a request may be answered during an outage: served, or refused with one of
// reasons. A refusal is judged on its reason, not its class alone: an outage answered
// failed/internal or timed_out tells the client a bug or a slow runtime, not a dependency it can
// wait out.
type outageAnswer struct {
	served  bool
	reasons []outcome.Reason
}

func serve() outageAnswer { return outageAnswer{served: true} }

func refuse(reasons ...outcome.Reason) outageAnswer { return outageAnswer{reasons: reasons} }

func (a outageAnswer) String() string {
	if a.served {
		return "served"
	}
	var rs []string
	for _, r := range a.reasons {
		rs = append(rs, string(r.Class())+"/"+string(r))
	}
	return "refused with " + strings.Join(rs, " or ")
}

// judgeOutage is FLT-1's judgement of one dependency role's fault run: every request ended in
// exactly one outcome of the contract, none outlived its deadline plus deadlineGrace (the declared
// tolerance), the indeterminate ones are recovered; and every request started after the
// runtime's detection time was answered as want says, a refusal also within its deadline plus
// deadlineGrace. It records the samples judged per role, wire and refusal.
func judgeOutage(ctx context.Context, role link.Role, rr runResult, want func(chaosledger.Entry) outageAnswer) {
	expectEveryRequestEnded(ctx, rr)
	settled := rr.settled()
	var refusals []chaosledger.Entry
	for _, e := range settled {
		a := want(e)
		if e.Served() {
			judgeThat(a.served, "request #%d of %s over %s was served during the %s outage (%s), where it must be %s",
				e.Seq, e.Tenant, e.Path, role, e.ServedBy.String(), a)
			continue
		}
		judgeThat(slices.Contains(a.reasons, e.Reason), "request #%d of %s over %s during the %s outage was answered %s/%s, where it must be %s",
			e.Seq, e.Tenant, e.Path, role, e.Outcome, e.Reason, a)
		judgeThat(e.Latency() <= e.Deadline+deadlineGrace, "the refusal of request #%d of %s over %s arrived after %s, past its deadline of %s and the tolerance of %s",
			e.Seq, e.Tenant, e.Path, e.Latency().Round(time.Millisecond), e.Deadline, deadlineGrace)
		refusals = append(refusals, e)
	}
	judgedFor("FLT-1", string(role), len(settled))
	judgedFor("FLT-1", "refusal", len(refusals))
	for p, n := range byPath(settled) {
		judgedFor("FLT-1", p, n)
	}
	evidence("%s outage: %d requests after detection (%s): %s; %d refusals, each within its deadline plus %s",
		role, len(settled), pathsText(settled), scenario.CountsText(settled), len(refusals), deadlineGrace)
}

// queueDuringOutage queues a small batch for t while a fault is in force and returns its id.
func queueDuringOutage(ctx context.Context, t target.Tenant, what string) string {
	var reqs []map[string]any
	for i := range regionBatchJobs {
		body := map[string]any{"model": model().Name, "max_tokens": 2,
			"messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("%s outage job %d of %s", what, i, t.Name)}}}
		reqs = append(reqs, map[string]any{"custom_id": fmt.Sprintf("job-%d", i), "body": body})
	}
	raw, err := json.Marshal(map[string]any{"endpoint": driver.PathChatCompletions, "requests": reqs})
	Expect(err).NotTo(HaveOccurred())
	var b batchObject
	idem := fmt.Sprintf("arcert-%s-outage-%s-%d-%d", what, t.Name, env.Seed, time.Now().UnixNano())
	status, _, err := env.HTTP.PostJSON(ctx, "/v1/batches", t.Key, raw, http.Header{"Idempotency-Key": {idem}}, &b)
	Expect(err).NotTo(HaveOccurred(), "queueing a batch of %s during the %s outage", t.Name, what)
	judgeThat(status == http.StatusOK, "queueing a batch of %s during the %s outage, with the queue up", t.Name, what)
	return b.ID
}

// jobResults is what expectQueuedWithinPolicy reads of a batch: each job's response and body.
type jobResults struct {
	Status string `json:"status"`
	Output []struct {
		CustomID string `json:"custom_id"`
		Response struct {
			StatusCode int             `json:"status_code"`
			Outcome    string          `json:"outcome"`
			Reason     string          `json:"reason"`
			Body       json.RawMessage `json:"body"`
		} `json:"response"`
	} `json:"output"`
}

// expectQueuedWithinPolicy waits for t's batch id to complete and checks that every job served
// was served where t's policy allows and never by a hosted provider it forbids. It returns the
// jobs judged.
func expectQueuedWithinPolicy(ctx context.Context, t target.Tenant, id string) int {
	Expect(id).NotTo(BeEmpty(), "%s queued no batch during the outage", t.Name)
	expectJobsDone(ctx, t, id, "queued during the outage", recoveryTime())
	var b jobResults
	Expect(getJSON(ctx, "/v1/batches/"+id, t.Key, &b)).To(Equal(http.StatusOK))
	for _, o := range b.Output {
		if o.Response.StatusCode != http.StatusOK {
			judgeThat(o.Response.Reason == string(outcome.ReasonPolicyForbidsFallback),
				"job %s of %s's batch %s queued during the outage ended %s/%s", o.CustomID, t.Name, id, o.Response.Outcome, o.Response.Reason)
			continue
		}
		var body openai.CompletionResponse
		Expect(json.Unmarshal(o.Response.Body, &body)).To(Succeed(), "job %s of batch %s: its body", o.CustomID, id)
		Expect(body.Outcome).NotTo(BeNil(), "job %s of batch %s: no aruntime_outcome", o.CustomID, id)
		sb := body.Outcome.ServedBy
		judgeThat(slices.Contains(t.DataPolicy.AllowedRegions, sb.Region), "job %s of %s's batch %s, queued during the outage, was served in %s, outside its policy", o.CustomID, t.Name, id, sb.Region)
		if !t.DataPolicy.HostedFallback {
			judgeThat(!slices.Contains(hostedProviders(), sb.Provider), "job %s of %s's batch %s went to hosted provider %s", o.CustomID, t.Name, id, sb.Provider)
		}
	}
	Expect(b.Output).To(HaveLen(regionBatchJobs), "batch %s of %s: results for %d of %d jobs", id, t.Name, len(b.Output), regionBatchJobs)
	return len(b.Output)
}

// joinComma joins names for messages.
func joinComma(names []string) string { return strings.Join(names, ", ") }

// judgeThat fails the spec with the sentence when ok is false: a verdict for people, without a
// matcher's dump of the values.
func judgeThat(ok bool, format string, args ...any) {
	GinkgoHelper()
	if !ok {
		Fail(fmt.Sprintf(format, args...))
	}
}

// awaitRecords polls the evidence of request id until it has a record or within has passed, and
// returns what it found then (none when the record never came): a spooled record may reach the
// chain a moment after healing.
func awaitRecords(ctx context.Context, key, id string, within time.Duration) []discovery.Record {
	limit := time.Now().Add(within)
	for {
		recs := evidenceNow(ctx, key, id)
		if len(recs) > 0 || time.Now().After(limit) || !sleepCtx(ctx, 50*time.Millisecond) {
			return recs
		}
	}
}

// awaitJobs polls t's batch id until it completes or within has passed, and returns it with
// whether it completed.
func awaitJobs(ctx context.Context, t target.Tenant, id string, within time.Duration) (batchObject, bool) {
	limit := time.Now().Add(within)
	for {
		var b batchObject
		status := getJSON(ctx, "/v1/batches/"+id, t.Key, &b)
		if status == http.StatusOK && b.Status == "completed" {
			return b, true
		}
		if time.Now().After(limit) || !sleepCtx(ctx, 100*time.Millisecond) {
			return b, false
		}
	}
}

// expectJobsDone is awaitJobs that fails the spec, in a sentence, when the batch did not complete.
func expectJobsDone(ctx context.Context, t target.Tenant, id, what string, within time.Duration) batchObject {
	GinkgoHelper()
	b, ok := awaitJobs(ctx, t, id, within)
	judgeThat(ok, "batch %s of %s (%s) did not complete within %s of healing: %s with %d of %d jobs done",
		id, t.Name, what, within, b.Status, b.Counts.Completed+b.Counts.Failed, b.Counts.Total)
	return b
}
