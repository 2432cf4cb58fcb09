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

	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// tenancyBatchJobs is how many jobs each tenant's batch carries in the tenancy specs: more than
// one, so a runner that keeps state from job to job shows it within one batch too.
const tenancyBatchJobs = 3

// submitTenancyBatch posts a batch of tenancyBatchJobs small jobs as t, each with body user,
// cache_salt and prompt text as given, with the extra headers hdr, and returns it as accepted.
func submitTenancyBatch(ctx context.Context, t target.Tenant, hdr http.Header, user, salt, text string) batchObject {
	var reqs []map[string]any
	for i := range tenancyBatchJobs {
		body := map[string]any{"model": model().Name, "max_tokens": 2,
			"messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("%s job %d", text, i)}}}
		if user != "" {
			body["user"] = user
		}
		if salt != "" {
			body["cache_salt"] = salt
		}
		reqs = append(reqs, map[string]any{"custom_id": fmt.Sprintf("job-%d", i), "body": body})
	}
	raw, err := json.Marshal(map[string]any{"endpoint": driver.PathChatCompletions, "requests": reqs})
	Expect(err).NotTo(HaveOccurred())
	h := hdr.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Idempotency-Key", fmt.Sprintf("arcert-tenancy-%s-%d-%d", t.Name, env.Seed, time.Now().UnixNano()))
	var b batchObject
	status, _, err := env.HTTP.PostJSON(ctx, "/v1/batches", t.Key, raw, h, &b)
	Expect(err).NotTo(HaveOccurred())
	Expect(status).To(Equal(http.StatusOK), "%s's batch was not accepted", t.Name)
	return b
}

var _ = Describe("Tenancy of queued work", func() {
	It("runs queued work as the tenant that submitted it", Req("TEN-5"), func(ctx SpecContext) {
		ts := env.Target.Tenants
		victim := func(i int) target.Tenant { return ts[(i+1)%len(ts)] }
		// Every tenant submits before any batch is awaited, so the queue holds several tenants'
		// jobs at once, each batch naming the next tenant in every label a client can write.
		var subs []batchObject
		for i, t := range ts {
			v := victim(i)
			b := submitTenancyBatch(ctx, t, spoofHeaders(v), v.Name, v.Name, spoofText(v))
			var other batchObject
			if getJSON(ctx, "/v1/batches/"+b.ID, v.Key, &other) == http.StatusOK {
				Fail(fmt.Sprintf("%s can read %s's batch %s", v.Name, t.Name, b.ID))
			}
			subs = append(subs, b)
		}
		var problems []string
		n := 0
		for i, t := range ts {
			v := victim(i)
			done := awaitBatch(ctx, t.Key, subs[i].ID)
			if len(done.Output) != tenancyBatchJobs {
				Fail(fmt.Sprintf("%s's batch %s has %d results for its %d jobs", t.Name, subs[i].ID, len(done.Output), tenancyBatchJobs))
			}
			for _, o := range done.Output {
				id := o.Response.RequestID
				if p := spoofProblem(t, v, spoofEvidence(ctx, id, t, v)); p != "" {
					problems = append(problems, fmt.Sprintf("%s's job %s (request %s, naming %s): %s", t.Name, o.CustomID, id, v.Name, p))
				}
				judged("batch-api", 1)
				judged("tenant:"+t.Name, 1)
				n++
			}
		}
		evidence("%d tenants each queued %d jobs naming the next tenant in headers, user, cache_salt and prompt text: %d of %d jobs ran or were billed as someone else",
			len(ts), tenancyBatchJobs, len(problems), n)
		if len(problems) > 0 {
			Fail(fmt.Sprintf("%d of %d queued jobs did not run and bill as the tenant that submitted them: %s", len(problems), n, strings.Join(firstOf(problems, 3), "; ")))
		}
	}, SpecTimeout(2*time.Minute))
})
