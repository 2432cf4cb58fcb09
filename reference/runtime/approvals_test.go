package runtime

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/reference/control"
)

// heldWindow is how long a held rollout is watched for a worker leaving the pin: an applied
// rollout reaches these workers in milliseconds, so a wrongly released one shows well within it.
const heldWindow = time.Second

// digestV3 is fixtures/artifacts/valid-v3, the dev configuration's protected pin.
const digestV3 = "sha256:88432126c777d547654cc190fda0d5f9123a891c38699ed96a34808c5dfe708d"

// TestProtectedPinWaitsForBothOperators: the dev configuration's protected pin is held on a PUT,
// the workers stay on v1 through the first operator's approval, and the second operator's
// approval applies it; each approval leaves an evidence record naming its operator.
func TestProtectedPinWaitsForBothOperators(t *testing.T) {
	rt := startDurable(t, devConfig(t), 60*time.Second)
	waitDigests(t, rt, digestV1)
	r := put(t, rt, "/v1/control/models/"+model, map[string]string{"artifact_digest": digestV3})
	var held struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	if err := json.Unmarshal(r.body, &held); r.status != http.StatusAccepted || err != nil || held.State != "pending_approval" {
		t.Fatalf("PUT of the protected pin: %d %s, want 202 pending_approval", r.status, r.body)
	}
	approve := func(key string) response {
		req, _ := http.NewRequest(http.MethodPost, "http://"+rt.Topology().HTTP+"/v1/control/rollouts/"+held.ID+"/approvals", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		return do(t, req)
	}
	if r := approve(acmeKey); r.status != http.StatusForbidden {
		t.Fatalf("a tenant's approval answered %d %s, want 403", r.status, r.body)
	}
	expectOutcome(t, approve(operatorKey), http.StatusOK, "completed", "none")
	stayOn(t, rt, digestV1, heldWindow)
	expectOutcome(t, approve("dev-operator-2-key"), http.StatusOK, "completed", "none")
	waitDigests(t, rt, digestV3)
	for n, who := range map[string]string{"1": "platform-ops", "2": "release-manager"} {
		recs := awaitEvidence(t, rt, operatorKey, "approval-"+held.ID+"-"+n)
		if len(recs) != 1 || recs[0].User != who || recs[0].ArtifactDigest != digestV3 || recs[0].Tenant != "" {
			t.Fatalf("evidence of approval %s: %+v, want one record by %s naming %s", n, recs, who, digestV3)
		}
	}
	// An approval whose request ended (the client hung up after the bucket counted it) is still
	// in evidence.
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	late := control.HeldRollout{ID: "ro-hung-up", Bucket: "models", Key: model, Digest: digestV3, Required: 2,
		Approvals: []control.Approval{{Operator: "platform-ops"}}}
	rt.recordApproval(gone, control.ApprovalEvent{Rollout: late, By: "platform-ops"})
	if recs := awaitEvidence(t, rt, operatorKey, "approval-ro-hung-up-1"); len(recs) != 1 {
		t.Fatalf("evidence of an approval whose request was cancelled: %+v, want its record", recs)
	}
}

// stayOn fails if, at any poll within window, a worker reports a digest other than want.
func stayOn(t *testing.T, rt *Runtime, want string, window time.Duration) {
	t.Helper()
	for end := time.Now().Add(window); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		var v discovery.Versions
		mustJSON(t, get(t, rt, "/v1/aruntime/versions", acmeKey), &v)
		for _, w := range v.Workers {
			for _, a := range w.Artifacts {
				if a.Model == model && a.Digest != want {
					t.Fatalf("worker %s left %s for %s while the rollout was held", w.Worker, want, a.Digest)
				}
			}
		}
	}
}
