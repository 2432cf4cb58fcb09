package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// pathBatch is the batch API: jobs submitted to /v1/batches, each answered in the batch's output
// with the status, outcome and body the synchronous endpoint would have given.
const pathBatch = "batch-api"

// outcomeBatchWait bounds how long a small batch of the outcome specs may take to complete.
const outcomeBatchWait = time.Minute

// batchJob is one job of a batch an outcome spec submits.
type batchJob struct {
	what string
	body map[string]any
}

// batchOutput is one job's answer in a batch's output.
type batchOutput struct {
	CustomID string `json:"custom_id"`
	Response struct {
		StatusCode int             `json:"status_code"`
		Outcome    outcome.Class   `json:"outcome"`
		Reason     outcome.Reason  `json:"reason"`
		RequestID  string          `json:"request_id"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
}

// batchWithOutput is a batch as the outcome specs read it.
type batchWithOutput struct {
	ID     string        `json:"id"`
	Status string        `json:"status"`
	Output []batchOutput `json:"output"`
}

// batchOutcomes submits jobs as one batch of tenant t, waits for it to complete and returns one
// sample per job: the status, outcome and reason its output entry states, and where its body
// says it was served.
func batchOutcomes(ctx context.Context, t target.Tenant, jobs []batchJob) []outcomeSample {
	var reqs []map[string]any
	for i, j := range jobs {
		reqs = append(reqs, map[string]any{"custom_id": fmt.Sprintf("job-%d", i), "body": j.body})
	}
	raw, err := json.Marshal(map[string]any{"endpoint": driver.PathChatCompletions, "requests": reqs})
	Expect(err).NotTo(HaveOccurred())
	idem := http.Header{"Idempotency-Key": {fmt.Sprintf("arcert-outcomes-%d-%s-%d", env.Seed, t.Name, time.Now().UnixNano())}}
	var b batchWithOutput
	status, _, err := env.HTTP.PostJSON(ctx, "/v1/batches", t.Key, raw, idem, &b)
	Expect(err).NotTo(HaveOccurred(), "submitting a batch")
	Expect(status/100).To(Equal(2), "submitting a batch as %s was refused with status %d", t.Name, status)
	Eventually(func() string {
		Expect(getJSON(ctx, "/v1/batches/"+b.ID, t.Key, &b)).To(Equal(http.StatusOK))
		return b.Status
	}).WithContext(ctx).WithTimeout(outcomeBatchWait).WithPolling(100*time.Millisecond).Should(Equal("completed"), "batch %s of %s did not complete", b.ID, t.Name)
	var out []outcomeSample
	for i, j := range jobs {
		s := outcomeSample{transport: pathBatch, what: j.what + " in a batch", tenant: t.Name}
		o := findOutput(b.Output, fmt.Sprintf("job-%d", i))
		if o == nil {
			s.violations = append(s.violations, "the batch's output has no entry for the job")
			out = append(out, s)
			continue
		}
		r := o.Response
		s.status, s.class, s.reason, s.requestID = r.StatusCode, r.Outcome, r.Reason, r.RequestID
		s.violations = batchViolations(r.Outcome, r.Reason, r.RequestID, r.Body, &s.servedBy)
		out = append(out, s)
	}
	return out
}

func findOutput(out []batchOutput, id string) *batchOutput {
	for i := range out {
		if out[i].CustomID == id {
			return &out[i]
		}
	}
	return nil
}

// batchViolations checks one output entry as the contract reads a response: a request id, a
// class and a reason of it, a body whose aruntime_outcome agrees, and where a served job was
// served (written to sb).
func batchViolations(class outcome.Class, reason outcome.Reason, id string, body json.RawMessage, sb *outcome.ServedBy) []string {
	var v []string
	if id == "" {
		v = append(v, "the output entry has no request_id")
	}
	switch r, err := outcome.ParseReason(string(reason)); {
	case !class.Valid():
		v = append(v, fmt.Sprintf("outcome %q is not a class of the contract", class))
	case err != nil:
		v = append(v, fmt.Sprintf("reason %q is not in the contract", reason))
	case r.Class() != class:
		v = append(v, fmt.Sprintf("reason %q belongs to class %q, not %q", r, r.Class(), class))
	}
	var b struct {
		Outcome *openai.Outcome `json:"aruntime_outcome"`
	}
	switch err := json.Unmarshal(body, &b); {
	case err != nil || b.Outcome == nil:
		v = append(v, "the job's body states no aruntime_outcome")
	case b.Outcome.Class != class || b.Outcome.Reason != reason:
		v = append(v, fmt.Sprintf("the entry says %s/%s but its body says %s/%s", class, reason, b.Outcome.Class, b.Outcome.Reason))
	default:
		*sb = b.Outcome.ServedBy
		if class.Served() && sb.IsZero() {
			v = append(v, "a served job's body names no served_by")
		}
	}
	return v
}

// chatJob is a batch job's chat body of maxTokens output tokens, with fields overridden.
func chatJob(content string, maxTokens int, override map[string]any) map[string]any {
	b := map[string]any{"model": model().Name, "max_tokens": maxTokens,
		"messages": []map[string]string{{"role": "user", "content": content}}}
	for k, v := range override {
		b[k] = v
	}
	return b
}
