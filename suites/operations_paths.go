package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/target"
)

// Client paths of the operations specs: every way a tenant's request reaches a worker.
const (
	opsHTTP       = "http"
	opsHTTPStream = "http-stream"
	opsGRPC       = "grpc"
)

// opsPerPath is how many requests each tenant sends on each client path after a version change:
// with prompts that differ from the first word, prefix affinity spreads them over the workers.
const opsPerPath = 2

// servedSample is one request served after a version change, as the client saw it.
type servedSample struct {
	path   string
	tenant target.Tenant
	id     string
	worker string
}

// clientPaths are the client paths the target offers: gRPC only with a gRPC endpoint.
func clientPaths() []string {
	paths := []string{opsHTTP, opsHTTPStream}
	if env.GRPC != nil {
		paths = append(paths, opsGRPC)
	}
	return paths
}

// serveEveryPath sends opsPerPath requests per tenant on every client path and requires each to
// be served; what served them is returned for the evidence to be judged against.
func serveEveryPath(ctx context.Context, r *rand.Rand, label string) []servedSample {
	var out []servedSample
	for _, t := range env.Target.Tenants {
		for _, path := range clientPaths() {
			for range opsPerPath {
				text := label + ": " + prompt(r, 8)
				s := servedSample{path: path, tenant: t}
				var class outcome.Class
				var reason outcome.Reason
				overQuota(ctx, t, func() (outcome.Reason, time.Duration) {
					if path == opsGRPC {
						res, err := env.GRPC.Complete(ctx, t.Key, &arcertv1.CompleteRequest{Model: model().Name,
							Messages: []*arcertv1.ChatMessage{{Role: "user", Content: text}}, MaxTokens: 2})
						opsCheck(err == nil, "%s: a gRPC call as %s could not be exchanged: %v", label, t.Name, err)
						s.id, s.worker, class, reason = res.RequestID, res.ServedBy.Worker, res.Outcome, res.Reason
						return reason, res.RetryAfter
					}
					res := send(ctx, t.Key, probe(text, 2, path == opsHTTPStream), nil)
					s.id, s.worker, class, reason = res.RequestID, res.ServedBy.Worker, res.Outcome, res.Reason
					return reason, res.RetryAfter
				})
				opsCheck(class.Served(), "%s: a %s request as %s ended %s/%s", label, path, t.Name, class, reason)
				opsCheck(s.id != "", "%s: a served %s request as %s without a request id", label, path, t.Name)
				out = append(out, s)
			}
		}
	}
	return out
}

// digestsByWorker is, per worker, the digest of model it reports on the versions endpoint.
func digestsByWorker(ctx context.Context, model string) map[string]string {
	out := map[string]string{}
	for _, w := range versionsNow(ctx) {
		for _, a := range w.Artifacts {
			if a.Model == model {
				out[w.Worker] = a.Digest
			}
		}
	}
	return out
}

// judgeServedDigests checks that the one evidence record of every sample names the worker that
// served it and the digest that worker reports for model, which must be want. It records the
// samples judged for id, per client path, tenant and worker, under stage ("rollout",
// "rollback"...), and returns the workers that served.
func judgeServedDigests(ctx context.Context, id, stage, model, want string, samples []servedSample) []string {
	reported := digestsByWorker(ctx, model)
	var workers []string
	for _, s := range samples {
		recs := evidenceFor(ctx, s.tenant.Key, s.id)
		opsCheck(len(recs) == 1, "%s: request %s (%s as %s) has %d evidence records, not one", stage, s.id, s.path, s.tenant.Name, len(recs))
		rec := recs[0]
		w := rec.ServedBy.Worker
		if w == "" {
			w = s.worker
		}
		_, listed := reported[w]
		opsCheck(listed, "%s: request %s was served by worker %q, which the versions endpoint does not list", stage, s.id, w)
		opsCheck(rec.ArtifactDigest == reported[w],
			"%s: the evidence of request %s (%s as %s) names artifact %s, but worker %s, which served it, reports %s on the versions endpoint",
			stage, s.id, s.path, s.tenant.Name, rec.ArtifactDigest, w, reported[w])
		opsCheck(rec.ArtifactDigest == want, "%s: request %s (%s as %s) was served by worker %s with %s, not %s", stage, s.id, s.path, s.tenant.Name, w, rec.ArtifactDigest, want)
		judgedFor(id, s.path, 1)
		judgedFor(id, "tenant:"+s.tenant.Name, 1)
		judgedFor(id, "worker:"+w, 1)
		judgedFor(id, stage, 1)
		if !slices.Contains(workers, w) {
			workers = append(workers, w)
		}
	}
	slices.Sort(workers)
	return workers
}

// rollbackTo rolls model back, through the operator API, to the latest revision of its history
// that pinned digest, and returns that revision.
func rollbackTo(ctx context.Context, model, digest string) uint64 {
	control, _, _, _ := ops()
	back := latestRevision(ctx, model, digest)
	Expect(operator(ctx, http.MethodPost, control+"models/"+model+"/rollback", map[string]uint64{"revision": back}, nil)).
		To(Equal(http.StatusOK), "rolling %s back to revision %d", model, back)
	return back
}

// latestRevision is the latest revision in model's history whose document names digest.
func latestRevision(ctx context.Context, model, digest string) uint64 {
	control, _, _, _ := ops()
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
		if json.Unmarshal(e.Value, &doc) == nil && doc.ArtifactDigest == digest {
			back = max(back, e.Revision)
		}
	}
	Expect(back).NotTo(BeZero(), "no revision with %s in the history of %s", digest, model)
	return back
}

// refusalsSince counts the artifact_invalid evidence records for digest after seq, per worker.
func refusalsSince(ctx context.Context, key, digest string, seq uint64) map[string]int {
	out := map[string]int{}
	for _, r := range allEvidence(ctx, key) {
		if r.Seq > seq && r.Reason == outcome.ReasonArtifactInvalid && r.ArtifactDigest == digest {
			out[r.ServedBy.Worker]++
		}
	}
	return out
}

// servedWithSince names the served requests in evidence after seq whose record names digest, as
// "request on worker".
func servedWithSince(ctx context.Context, key, digest string, seq uint64) []string {
	var out []string
	for _, r := range allEvidence(ctx, key) {
		if r.Seq > seq && r.Outcome.Served() && r.ArtifactDigest == digest {
			out = append(out, r.RequestID+" on "+r.ServedBy.Worker)
		}
	}
	return out
}

// evidenceTail is the sequence number of the last evidence record the operator can list.
func evidenceTail(ctx context.Context, key string) uint64 {
	all := allEvidence(ctx, key)
	if len(all) == 0 {
		return 0
	}
	return all[len(all)-1].Seq
}

// workersOn describes the digest every worker reports for model, for messages.
func workersOn(ctx context.Context, model string) string {
	return strings.Join(workerDigests(ctx, model), ", ")
}

// batchSamples submits one batch as tenant A and returns its served jobs as samples of the
// batch-api path: a batch job reaches a worker through the queue, not through a client's call.
func batchSamples(ctx context.Context, label string) []servedSample {
	if !hasBatchAPI() {
		return nil
	}
	a := tenantA()
	status, sub := submitBatch(ctx, a.Key, fmt.Sprintf("arcert-ops-%d-%d", env.Seed, time.Now().UnixNano()), nil, a.Name)
	opsCheck(status == http.StatusOK, "%s: submitting a batch was answered %d", label, status)
	done := awaitBatch(ctx, a.Key, sub.ID)
	var out []servedSample
	for _, o := range done.Output {
		opsCheck(o.Response.StatusCode == http.StatusOK, "%s: batch job %s ended with status %d", label, o.CustomID, o.Response.StatusCode)
		out = append(out, servedSample{path: opsBatch, tenant: a, id: o.Response.RequestID})
	}
	opsCheck(len(out) > 0, "%s: the batch has no output", label)
	return out
}

// opsBatch is the path of work submitted through the batch API.
const opsBatch = "batch-api"

// opsCheck fails the spec with message when ok is false: one sentence for people, without a
// matcher's dump of the values (the message names them).
func opsCheck(ok bool, format string, args ...any) {
	GinkgoHelper()
	if !ok {
		Fail(fmt.Sprintf(format, args...))
	}
}

// opsPoll calls cond every poll until it holds or within has passed (or ctx ends), and reports
// whether it held: a wait whose failure the caller states in its own words.
func opsPoll(ctx context.Context, within, poll time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
}

// quotaRetries bounds how often a probe refused for its tenant's own declared quota is sent
// again. Such a refusal says nothing about the rule being probed (an earlier spec may have spent
// a small tenant's burst); a runtime that keeps refusing past the waits fails on the answer.
const quotaRetries = 5

// quotaRetryWait bounds one wait before a probe refused for quota is sent again.
const quotaRetryWait = 2 * time.Second

// overQuota calls send until its answer is not a refusal for the tenant's quota, at most
// quotaRetries more times, waiting the answer's Retry-After (or t's pacing gap when it names
// none) in between. send reports the reason and Retry-After of its answer.
func overQuota(ctx context.Context, t target.Tenant, send func() (outcome.Reason, time.Duration)) {
	gap := time.Second
	if rpm := t.Quota.RequestsPerMinute; rpm > 0 {
		gap = time.Duration(quotaHeadroomFactor * float64(time.Minute) / float64(rpm))
	}
	for range quotaRetries {
		reason, after := send()
		if reason != outcome.ReasonQuotaExceeded {
			return
		}
		wait := min(max(after, gap), quotaRetryWait)
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return
		}
	}
	send()
}

// explainClientPaths records, for the spec's requirement, why a client path it lists was not
// probed: the target declares no gRPC endpoint, or (with batch) no batch API.
func explainClientPaths(batch bool) {
	if env.GRPC == nil {
		notProbed(opsGRPC, "the target declares no gRPC endpoint")
	}
	if batch && !hasBatchAPI() {
		notProbed(opsBatch, "the target does not declare the queue feature (no batch API)")
	}
}

// hasBatchAPI reports whether the target declares the batch API (the queue feature).
func hasBatchAPI() bool { return env.Target.Declares("queue") }
