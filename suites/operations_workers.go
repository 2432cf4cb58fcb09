package suites

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"sync"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
)

// workerDigests is what every worker of model reports for it: the workers held for model (see
// heldWorkers) and any other not excused by servesOthersOnly. A held worker that no longer
// reports is listed with no digest, so a worker lost or gone quiet never converges by absence.
func workerDigests(ctx context.Context, model string) []string {
	var v discovery.Versions
	Expect(getJSON(ctx, discovery.PathVersions, tenantA().Key, &v)).To(Equal(http.StatusOK))
	held := heldWorkers(v.Workers, model)
	seen := map[string]bool{}
	var out []string
	for _, w := range v.Workers {
		seen[w.Worker] = true
		if !held[w.Worker] && servesOthersOnly(w, model) {
			continue // an autoscaled group's worker: not one to converge on model's pin
		}
		d := ""
		for _, a := range w.Artifacts {
			if a.Model == model {
				d = a.Digest
			}
		}
		out = append(out, w.Worker+"="+d)
	}
	for _, id := range slices.Sorted(maps.Keys(held)) {
		if !seen[id] {
			out = append(out, id+"=")
		}
	}
	return out
}

// held are, per model, the workers that served it the first time a spec looked: from then on
// each of them is judged for model whatever it later reports, so a worker that drops model's pin
// cannot become excused as "another model's worker".
var held struct {
	sync.Mutex
	byModel map[string]map[string]bool
}

// heldWorkers returns model's held workers, taking the snapshot from workers on first use.
func heldWorkers(workers []discovery.WorkerVersions, model string) map[string]bool {
	held.Lock()
	defer held.Unlock()
	if ids, ok := held.byModel[model]; ok {
		return ids
	}
	ids := map[string]bool{}
	for _, w := range workers {
		if !servesOthersOnly(w, model) {
			ids[w.Worker] = true
		}
	}
	if held.byModel == nil {
		held.byModel = map[string]map[string]bool{}
	}
	held.byModel[model] = ids
	return ids
}

// servesOthersOnly reports whether w is a worker of the declared autoscaled model and of nothing
// else (placement.autoscaling_lag.model, when that is not model): its group's instances come and
// go, and model's rollouts do not concern them. Nothing else is excused: a worker reporting no
// artifact, or another model the target never declared as autoscaled, may be a worker that lost
// model's pin.
func servesOthersOnly(w discovery.WorkerVersions, model string) bool {
	scaled := env.Target.Placement.AutoscalingLag.Model
	if scaled == "" || scaled == model || len(w.Artifacts) == 0 {
		return false
	}
	return !slices.ContainsFunc(w.Artifacts, func(a discovery.Artifact) bool { return a.Model != scaled })
}

// modelWorkers are the ids of model's held workers and every other worker not excused by
// servesOthersOnly: the workers whose refusals and versions model's specs judge.
func modelWorkers(ctx context.Context, model string) []string {
	vs := versionsNow(ctx)
	held := heldWorkers(vs, model)
	ids := slices.Sorted(maps.Keys(held)) // a held worker gone from the listing is judged too
	for _, w := range vs {
		if !held[w.Worker] && !servesOthersOnly(w, model) {
			ids = append(ids, w.Worker)
		}
	}
	Expect(ids).NotTo(BeEmpty(), "/v1/aruntime/versions lists no worker of %s", model)
	return ids
}
