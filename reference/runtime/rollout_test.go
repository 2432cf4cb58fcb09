package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/discovery"
)

const (
	digestV1        = "sha256:5091e56fb855981ee4a3455a13225801ca016d78b01a53ba83f399fa0e4f7a1d"
	digestV2        = "sha256:65daaa4f13b5701cb3a0e6efd7cde6c5c8841464c76bdd8ba6a5ab804b935ce2"
	digestMalformed = "sha256:8e16bbf8544b5f60034b22ada7a78db281b106bd04f9cde8994ccd88812031ba"
	operatorKey     = "dev-operator-key"
)

// put sends an operator document to the control plane.
func put(t *testing.T, rt *Runtime, path string, doc any) response {
	t.Helper()
	b, _ := json.Marshal(doc)
	req, _ := http.NewRequest(http.MethodPut, "http://"+rt.Topology().HTTP+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+operatorKey)
	return do(t, req)
}

// waitDigests polls /v1/aruntime/versions until every worker of the rolled model reports want,
// with a bound; the autoscaled group's workers serve another model and are left out.
func waitDigests(t *testing.T, rt *Runtime, want string) {
	t.Helper()
	var v discovery.Versions
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		mustJSON(t, get(t, rt, "/v1/aruntime/versions", acmeKey), &v)
		all := len(v.Workers) > 0
		for _, w := range v.Workers {
			if len(w.Artifacts) == 1 && w.Artifacts[0].Model == scaleModel {
				continue
			}
			all = all && len(w.Artifacts) == 1 && w.Artifacts[0].Digest == want
		}
		if all {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("workers did not converge on %s: %+v", want, v.Workers)
}

// expectServedDigest serves a few requests and checks that each one's evidence names want, the
// digest every worker reports: the router's configuration still names the pin it started with,
// so evidence must take the digest from the worker that served.
func expectServedDigest(t *testing.T, rt *Runtime, want string) {
	t.Helper()
	for i := range 4 {
		r := post(t, rt, "/v1/chat/completions", acmeKey, chat(fmt.Sprintf("which version serves %d?", i), 2), nil)
		expectOutcome(t, r, http.StatusOK, "completed", "none")
		id := r.header.Get("X-Request-Id")
		var recs []discovery.Record
		deadline := time.Now().Add(10 * time.Second)
		for len(recs) == 0 && time.Now().Before(deadline) {
			if recs = evidenceOf(t, rt, acmeKey, id); len(recs) == 0 {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if len(recs) != 1 || recs[0].ArtifactDigest != want {
			t.Fatalf("request %s: evidence %+v, want one record naming %s", id, recs, want)
		}
	}
}

// TestRolloutRollbackAndInvalidArtifact: a rollout converges on every worker, a rollback restores
// the old digest, and an invalid artifact is refused with evidence while the old one serves.
func TestRolloutRollbackAndInvalidArtifact(t *testing.T) {
	cfg := devConfig(t)
	rt := startDurable(t, cfg, 60*time.Second)
	path := "/v1/control/models/" + model
	waitDigests(t, rt, digestV1)

	r := put(t, rt, path, map[string]any{"artifact_digest": digestV2, "repo": "models/" + model})
	expectOutcome(t, r, http.StatusOK, "completed", "none")
	waitDigests(t, rt, digestV2)
	expectServedDigest(t, rt, digestV2)

	var hist struct {
		Entries []struct{ Revision uint64 } `json:"entries"`
	}
	mustJSON(t, get(t, rt, path+"/history", operatorKey), &hist)
	if len(hist.Entries) < 2 {
		t.Fatalf("history %+v", hist)
	}
	b, _ := json.Marshal(map[string]uint64{"revision": hist.Entries[0].Revision})
	req, _ := http.NewRequest(http.MethodPost, "http://"+rt.Topology().HTTP+path+"/rollback", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+operatorKey)
	expectOutcome(t, do(t, req), http.StatusOK, "completed", "none")
	waitDigests(t, rt, digestV1)
	expectServedDigest(t, rt, digestV1)

	expectOutcome(t, put(t, rt, path, map[string]any{"artifact_digest": digestMalformed, "repo": "models/" + model}), http.StatusOK, "completed", "none")
	// Only the workers serving model refuse its pin: another model's worker (the autoscaled
	// group's) never applies it, so it has nothing to refuse.
	serving := 0
	for _, w := range cfg.Workers {
		if slices.Contains(w.Models, model) {
			serving++
		}
	}
	var list discovery.EvidenceList
	deadline := time.Now().Add(15 * time.Second)
	refused := 0
	for refused < serving && time.Now().Before(deadline) {
		mustJSON(t, get(t, rt, "/v1/aruntime/evidence?since=0&limit=1000", operatorKey), &list)
		refused = 0
		for _, rec := range list.Records {
			if rec.Reason == "artifact_invalid" && rec.ArtifactDigest == digestMalformed {
				refused++
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a refusal from a worker of another model would show by now
	mustJSON(t, get(t, rt, "/v1/aruntime/evidence?since=0&limit=1000", operatorKey), &list)
	refused = 0
	for _, rec := range list.Records {
		if rec.Reason == "artifact_invalid" && rec.ArtifactDigest == digestMalformed {
			refused++
		}
	}
	if refused != serving {
		t.Fatalf("%d artifact_invalid evidence records, want one per worker serving %s (%d)", refused, model, serving)
	}
	waitDigests(t, rt, digestV1)
	expectOutcome(t, post(t, rt, "/v1/chat/completions", acmeKey, chat("still serving v1?", 2), nil), http.StatusOK, "completed", "none")
}

// TestReplacedWorkerComesBackOnThePinnedVersion: after a rollout, a replaced worker is a new
// instance on the same address that applies the control plane's pin, not its configuration's.
func TestReplacedWorkerComesBackOnThePinnedVersion(t *testing.T) {
	cfg := devConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var ids []string
	for _, w := range cfg.Workers {
		ids = append(ids, w.ID)
	}
	rt, err := Start(ctx, cfg, durableOptions(t, cfg, ids...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	expectOutcome(t, put(t, rt, "/v1/control/models/"+model, map[string]any{"artifact_digest": digestV2}), http.StatusOK, "completed", "none")
	waitDigests(t, rt, digestV2)
	instance := func() string {
		var v discovery.Versions
		mustJSON(t, get(t, rt, "/v1/aruntime/versions", acmeKey), &v)
		for _, w := range v.Workers {
			if w.Worker == "worker-a" && w.Healthy && len(w.Artifacts) == 1 {
				return w.Instance + "@" + w.Artifacts[0].Digest
			}
		}
		return ""
	}
	before := instance()
	req, _ := http.NewRequest(http.MethodPost, "http://"+rt.Topology().HTTP+"/v1/control/workers/worker-a/replace", nil)
	req.Header.Set("Authorization", "Bearer "+acmeKey)
	expectOutcome(t, do(t, req), http.StatusForbidden, "rejected", "forbidden")
	req.Header.Set("Authorization", "Bearer "+operatorKey)
	expectOutcome(t, do(t, req), http.StatusOK, "completed", "none")
	deadline := time.Now().Add(15 * time.Second)
	after := instance()
	for (after == "" || after == before) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		after = instance()
	}
	if after == before || !strings.HasSuffix(after, "@"+digestV2) {
		t.Fatalf("worker-a before %q, after %q: want a new instance on %s", before, after, digestV2)
	}
	expectOutcome(t, post(t, rt, "/v1/chat/completions", acmeKey, chat("served after the replacement?", 2), nil), http.StatusOK, "completed", "none")
}
