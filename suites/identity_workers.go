package suites

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	. "github.com/onsi/gomega"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// workerCredentials is the body of the target's operations.worker_credentials endpoint.
type workerCredentials struct {
	Credentials []string `json:"credentials"`
}

// credentialsAtWorkers is ID-5 on the worker path: every tenant sends requests on every
// transport; then, for every worker that served one, the worker's own record of the credentials
// presented to it must hold none of the tenants' keys nor the operator's. The positive control is
// that the record holds the workload credential the runtime's parts call workers with (when the
// target declares it): a record that shows nothing could not show a leak either. It returns the
// leaks found, and stop when that control failed (the spec is then INCONCLUSIVE); a path it
// cannot probe it records as not probed.
func credentialsAtWorkers(ctx context.Context) (leaks []string, stop bool) {
	ops, op := env.Target.Operations, env.Target.Operator
	if ops == nil || ops.WorkerCredentials == "" || op == nil {
		notProbed("worker", "the target declares no operations.worker_credentials (or no operator credential to read it), so what reached a worker cannot be read")
		return nil, false
	}
	served := map[string]int{}
	for _, t := range env.Target.Tenants {
		for range credentialProbes {
			for _, path := range []string{"http", "http-stream", "grpc"} {
				if w := servedOnWorker(ctx, t.Key, path); w != "" {
					served[w]++
				}
			}
		}
	}
	if len(served) == 0 {
		notProbed("worker", "no response named the worker that served it (ARuntime-Served-By has no worker), so no worker's record could be tied to the requests")
		return nil, false
	}
	known := knownCredentials()
	if wl := env.Target.Workload; wl != nil {
		delete(known, credentialFingerprint(wl.Key)) // the one credential a worker must be presented
	}
	for _, w := range slices.Sorted(maps.Keys(served)) {
		var rec workerCredentials
		path := strings.ReplaceAll(ops.WorkerCredentials, "{worker}", w)
		Expect(getJSON(ctx, path, op.Key, &rec)).To(Equal(http.StatusOK), "GET %s as the operator", path)
		if wl := env.Target.Workload; wl != nil && !slices.Contains(rec.Credentials, credentialFingerprint(wl.Key)) {
			inconclusive("positive control failed: worker %s's record (%d fingerprints) does not show the workload credential it is called with", w, len(rec.Credentials))
			return nil, true
		}
		for _, fp := range rec.Credentials {
			if who, ok := known[fp]; ok {
				leaks = append(leaks, fmt.Sprintf("worker %s was presented %s", w, who))
			}
		}
		judged("worker:"+w, served[w])
	}
	return leaks, false
}

// servedOnWorker sends one small request as key on path and returns the worker that served it,
// as ARuntime-Served-By (or the gRPC trailer) names it; "" when it was not served by a worker.
func servedOnWorker(ctx context.Context, key, path string) string {
	if path == "grpc" {
		if env.GRPC == nil {
			return ""
		}
		res, err := env.GRPC.Complete(ctx, key, &arcertv1.CompleteRequest{Model: model().Name, MaxTokens: 2,
			Messages: []*arcertv1.ChatMessage{{Role: "user", Content: "which credential reaches the worker?"}}})
		Expect(err).NotTo(HaveOccurred())
		if !res.Outcome.Served() {
			return ""
		}
		return res.ServedBy.Worker
	}
	res := send(ctx, key, probe("which credential reaches the worker?", 2, path == "http-stream"), nil)
	if !res.Outcome.Served() {
		return ""
	}
	return res.ServedBy.Worker
}
