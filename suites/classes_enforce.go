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

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// undeclaredClass is a traffic class no target declares.
const undeclaredClass = "arcert-undeclared-class"

// classAsk is one ADM-5 probe: a tenant asking for a class on one transport, and whether the
// target lets that tenant use it.
type classAsk struct {
	tenant target.Tenant
	class  string
	own    bool
}

// classAsks are every probe ADM-5 makes for tenant t: each of its own classes, each declared
// class that is not its own, and one no target declares.
func classAsks(t target.Tenant) []classAsk {
	var out []classAsk
	for _, k := range env.Target.TrafficClasses {
		out = append(out, classAsk{tenant: t, class: k.Name, own: slices.Contains(t.TrafficClasses, k.Name)})
	}
	return append(out, classAsk{tenant: t, class: undeclaredClass})
}

// classAnswer is what a transport answered to a classAsk.
type classAnswer struct {
	outcome   outcome.Class
	reason    outcome.Reason
	requestID string
}

// httpWay is one HTTP route a class probe takes: a runtime that checks the class on its chat
// handler can forget the check on its streaming one or on the legacy completions route.
type httpWay struct {
	path     string // the sample's path: viaHTTP, viaHTTPStream or viaCompletions
	endpoint string
	stream   bool
}

// httpWays are the HTTP routes ADM-5 asks on.
var httpWays = []httpWay{
	{viaHTTP, driver.PathChatCompletions, false},
	{viaHTTPStream, driver.PathChatCompletions, true},
	{viaCompletions, driver.PathCompletions, false},
}

// overloadWays are the routes the overload run draws each request's from: httpWays, and gRPC
// when the target has a gRPC endpoint.
func overloadWays() []httpWay {
	if env.GRPC == nil {
		return httpWays
	}
	return append(slices.Clone(httpWays), httpWay{path: viaGRPC})
}

// askHTTP sends a over HTTP by way, naming the class in the contract's traffic-class header.
func askHTTP(ctx context.Context, a classAsk, way httpWay) classAnswer {
	body := asEndpoint(way.endpoint, probe("which class am I in?", 1, way.stream))
	res := pastQuota(ctx, func() driver.Result {
		res, err := env.HTTP.Do(ctx, driver.Call{Path: way.endpoint, Key: a.tenant.Key, Body: body, Header: http.Header{outcome.HeaderTrafficClass: {a.class}}})
		Expect(err).NotTo(HaveOccurred(), "the %s request could not be exchanged", way.path)
		return res
	}, func(r driver.Result) (bool, time.Duration) { return quotaRefusal(r.Outcome, r.Reason), r.RetryAfter })
	return classAnswer{res.Outcome, res.Reason, res.RequestID}
}

// askGRPC sends a over gRPC, naming the class in the request's traffic_class field.
func askGRPC(ctx context.Context, a classAsk) classAnswer {
	return pastQuota(ctx, func() classAnswer {
		res, err := env.GRPC.Complete(ctx, a.tenant.Key, &arcertv1.CompleteRequest{Model: model().Name,
			Messages: []*arcertv1.ChatMessage{{Role: "user", Content: "which class am I in?"}}, MaxTokens: 1, TrafficClass: a.class})
		Expect(err).NotTo(HaveOccurred(), "the gRPC call could not be exchanged")
		return classAnswer{res.Outcome, res.Reason, res.RequestID}
	}, func(c classAnswer) (bool, time.Duration) { return quotaRefusal(c.outcome, c.reason), 0 })
}

// judgeClassAnswer checks one answer: a class the tenant has is served in that class (its
// evidence record says so: not silently mapped to another), any other is rejected.
func judgeClassAnswer(ctx context.Context, via string, a classAsk, got classAnswer) {
	if !a.own {
		mustHold(got.outcome == outcome.Rejected, "%s asking over %s for traffic class %q, which is not one of its own, was answered %s/%s instead of rejected",
			a.tenant.Name, via, a.class, got.outcome, got.reason)
		return
	}
	mustHold(got.outcome.Served(), "%s asking over %s for its own traffic class %q was answered %s/%s", a.tenant.Name, via, a.class, got.outcome, got.reason)
	recs := evidenceFor(ctx, a.tenant.Key, got.requestID)
	mustHold(recs[0].TrafficClass == a.class, "%s asked over %s for traffic class %q and was served in %q", a.tenant.Name, via, a.class, recs[0].TrafficClass)
}

var _ = Describe("Traffic class enforcement", func() {
	It("serves each tenant in its own classes and rejects every other", Req("ADM-5"), func(ctx SpecContext) {
		if env.GRPC == nil {
			notProbed("grpc", "the target declares no gRPC endpoint")
		}
		batches := map[string]string{} // tenant → batch id
		if env.Target.Declares("queue") {
			for _, t := range env.Target.Tenants {
				batches[t.Name] = submitClassBatch(ctx, t)
			}
		} else {
			notProbed("batch-api", "the target declares no batch queue")
		}
		for _, t := range env.Target.Tenants {
			n := 0
			for _, a := range classAsks(t) {
				for _, way := range httpWays {
					judgeClassAnswer(ctx, way.path, a, askHTTP(ctx, a, way))
					judged(transportPath(way.path, a), 1)
					n++
				}
				if env.GRPC != nil {
					got := askGRPC(ctx, a)
					judgeClassAnswer(ctx, "gRPC", a, got)
					judged(transportPath("grpc", a), 1)
					n++
				}
			}
			if id, ok := batches[t.Name]; ok {
				class := batchJobClass(ctx, t, id)
				mustHold(slices.Contains(t.TrafficClasses, class), "%s's batch job ran in traffic class %q, which is not one of its own (%s)", t.Name, class, listed(t.TrafficClasses))
				judged("batch-api", 1)
				n++
				evidence("%s: batch job ran in %s", t.Name, class)
			}
			judged("tenant:"+t.Name, n)
			evidence("%s (classes %s): %d probes; every own class served in that class, every other class refused", t.Name, strings.Join(t.TrafficClasses, ", "), n)
		}
	}, SpecTimeout(2*time.Minute))
})

// transportPath names a sample by route, refusal or success, and class: "http-stream:refused:batch".
func transportPath(via string, a classAsk) string {
	if a.own {
		return via + ":served:" + a.class
	}
	return via + ":refused:" + a.class
}

// submitClassBatch submits one job for t through the batch API and returns the batch id.
func submitClassBatch(ctx context.Context, t target.Tenant) string {
	body := map[string]any{"model": model().Name, "max_tokens": 1,
		"messages": []map[string]string{{"role": "user", "content": "which class does my batch job run in?"}}}
	raw, err := json.Marshal(map[string]any{"endpoint": driver.PathChatCompletions,
		"requests": []map[string]any{{"custom_id": "class-0", "body": body}}})
	Expect(err).NotTo(HaveOccurred())
	var b batchObject
	status, _, err := env.HTTP.PostJSON(ctx, "/v1/batches", t.Key, raw,
		http.Header{"Idempotency-Key": {fmt.Sprintf("arcert-adm5-%s-%d-%d", t.Name, env.Seed, time.Now().UnixNano())}}, &b)
	Expect(err).NotTo(HaveOccurred(), "POST /v1/batches as %s", t.Name)
	Expect(status).To(Equal(http.StatusOK), "%s's batch was not accepted", t.Name)
	return b.ID
}

// batchJobClass waits for t's one-job batch and returns the traffic class its evidence names.
func batchJobClass(ctx context.Context, t target.Tenant, id string) string {
	b := awaitBatch(ctx, t.Key, id)
	Expect(b.Output).To(HaveLen(1), "%s's batch has no result", t.Name)
	Expect(b.Output[0].Response.StatusCode).To(Equal(http.StatusOK), "%s's batch job was not served", t.Name)
	return evidenceFor(ctx, t.Key, b.Output[0].Response.RequestID)[0].TrafficClass
}
