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
	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// operatorListing is the contract's operator-only endpoint: every tenant's evidence.
const operatorListing = discovery.PathEvidence + "?since=0&limit=1"

// identitySpecTimeout bounds the identity specs, which make a few hundred quick calls each (and
// ID-4 waits for one batch job per tenant).
const identitySpecTimeout = 2 * time.Minute

var _ = Describe("Identity", func() {
	It("refuses every caller but the operator on every operator endpoint", Req("ID-1"), func(ctx SpecContext) {
		op := env.Target.Operator
		if op == nil {
			inconclusive("the target declares no operator credential, so the positive control cannot run")
			return
		}
		controls, wrong := operatorRefusals(ctx, op.Key)
		if len(controls) > 0 {
			inconclusive("positive control failed, the operator itself was not let in: %s", strings.Join(controls, "; "))
			return
		}
		failOnAny("operator endpoints let in callers that are not the operator", wrong)
		evidence("%d operator endpoints admit the operator and refuse every tenant, the workload credential and no credential", len(operatorEndpoints()))
	}, SpecTimeout(identitySpecTimeout))

	It("refuses the workload credential on every data-plane path, bare and with any tenant's labels", Req("ID-2"), func(ctx SpecContext) {
		wl := env.Target.Workload
		if wl == nil {
			inconclusive("the target declares no workload credential")
			return
		}
		wrong := dataPlaneRefusals(ctx, "ID-2", wl.Key)
		failOnAny("the workload credential was not refused as unauthenticated or forbidden", wrong)
		evidence("the workload credential is refused as unauthenticated or forbidden on every path, bare and with every tenant's labels")
	}, SpecTimeout(identitySpecTimeout))

	It("refuses the operator credential on every data-plane path, bare and with any tenant's labels", Req("ID-3"), func(ctx SpecContext) {
		op := env.Target.Operator
		if op == nil {
			inconclusive("the target declares no operator credential")
			return
		}
		wrong := dataPlaneRefusals(ctx, "ID-3", op.Key)
		failOnAny("the operator credential was not refused as unauthenticated or forbidden", wrong)
		evidence("the operator credential is refused as unauthenticated or forbidden on every path, bare and with every tenant's labels")
	}, SpecTimeout(identitySpecTimeout))

	It("records user, application and deployment apart from the tenant on every path", Req("ID-4"), func(ctx SpecContext) {
		for _, t := range env.Target.Tenants {
			ids := map[string]string{}
			for _, stream := range []bool{false, true} {
				res := send(ctx, t.Key, probe("who am I?", 1, stream), nil)
				Expect(res.Outcome.Served()).To(BeTrue(), "%s: %s", t.Name, describe(res))
				ids[map[bool]string{false: "http", true: "http-stream"}[stream]] = res.RequestID
			}
			if env.GRPC != nil {
				res, err := env.GRPC.Complete(ctx, t.Key, &arcertv1.CompleteRequest{Model: model().Name, MaxTokens: 1,
					Messages: []*arcertv1.ChatMessage{{Role: "user", Content: "who am I?"}}})
				Expect(err).NotTo(HaveOccurred())
				Expect(res.Outcome.Served()).To(BeTrue(), "%s over gRPC: %s %s/%s", t.Name, res.Code, res.Outcome, res.Reason)
				ids["grpc"] = res.RequestID
			}
			if env.Target.Declares("queue") {
				ids["batch-api"] = identityBatchJob(ctx, t)
			}
			for path, id := range ids {
				expectIdentitiesApart(ctx, t, path, id)
				judged(path+":"+t.Name, 1)
			}
		}
		if env.GRPC == nil {
			notProbed("grpc", "the target declares no gRPC endpoint")
		}
		if !env.Target.Declares("queue") {
			notProbed("batch-api", "the target does not declare the queue feature, so it has no batch API")
		}
	}, SpecTimeout(identitySpecTimeout))
})

// expectIdentitiesApart checks the evidence record of request id, sent by t on path: it names
// t as the tenant and, apart from it, a user, an application and a deployment, each the one the
// target declares for t's key where it declares one.
func expectIdentitiesApart(ctx context.Context, t target.Tenant, path, id string) {
	Expect(id).NotTo(BeEmpty(), "%s's request on %s has no request id", t.Name, path)
	recs := evidenceFor(ctx, t.Key, id)
	Expect(recs).To(HaveLen(1), "%s's request %s on %s", t.Name, id, path)
	r := recs[0]
	where := fmt.Sprintf("evidence of %s's request %s on %s", t.Name, id, path)
	Expect(r.Tenant).To(Equal(t.Name), "%s: tenant", where)
	Expect(r.User).NotTo(BeEmpty(), "%s names no user", where)
	Expect(r.Application).NotTo(BeEmpty(), "%s names no application", where)
	Expect(r.Deployment).NotTo(BeEmpty(), "%s names no deployment", where)
	if t.User != "" {
		Expect(r.User).To(Equal(t.User), "%s: user", where)
	}
	if t.Application != "" {
		Expect(r.Application).To(Equal(t.Application), "%s: application", where)
	}
	evidence("%s: tenant %s, application %s, user %s, deployment %s", where, r.Tenant, r.Application, r.User, r.Deployment)
}

// identityBatchWait bounds how long a one-job batch may take to complete: the batch class's
// deadline on the reference is 60 s, and an idle runtime runs the job at once.
const identityBatchWait = time.Minute

// identityBatch is what ID-4 reads of a batch (the arcert batch contract v1, OpenAI's shape).
type identityBatch struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Output []struct {
		Response struct {
			RequestID string `json:"request_id"`
		} `json:"response"`
	} `json:"output"`
}

// identityBatchJob submits a one-job batch as t, waits for it to complete and returns the job's
// request id.
func identityBatchJob(ctx context.Context, t target.Tenant) string {
	raw, err := json.Marshal(map[string]any{"endpoint": driver.PathChatCompletions, "requests": []map[string]any{{
		"custom_id": "who-am-i", "body": map[string]any{"model": model().Name, "max_tokens": 1,
			"messages": []map[string]string{{"role": "user", "content": "who am I?"}}}}}})
	Expect(err).NotTo(HaveOccurred())
	var b identityBatch
	hdr := http.Header{"Idempotency-Key": {fmt.Sprintf("arcert-id4-%s-%d", t.Name, time.Now().UnixNano())}}
	status, _, err := env.HTTP.PostJSON(ctx, "/v1/batches", t.Key, raw, hdr, &b)
	Expect(err).NotTo(HaveOccurred())
	Expect(status).To(Equal(http.StatusOK), "%s's batch was not accepted", t.Name)
	Eventually(func() string {
		Expect(getJSON(ctx, "/v1/batches/"+b.ID, t.Key, &b)).To(Equal(http.StatusOK))
		return b.Status
	}).WithContext(ctx).WithTimeout(identityBatchWait).WithPolling(100*time.Millisecond).
		Should(Equal("completed"), "%s's batch %s did not complete", t.Name, b.ID)
	Expect(b.Output).To(HaveLen(1), "%s's batch %s", t.Name, b.ID)
	return b.Output[0].Response.RequestID
}
