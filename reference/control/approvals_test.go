package control

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/identity"
	arjs "github.com/aruntime/arcert/reference/jetstream"
)

const secondOperatorKey = "op-2-key"

// approvalsAPI is an operator API whose model "m" has digestOf("v3") protected by two approvals;
// events collects what it would append to the evidence chain.
type approvalsAPI struct {
	*apiClient
	mu     sync.Mutex
	events []ApprovalEvent
}

func newApprovalsAPI(t *testing.T, e *testEnv, store *Store, d ApprovalDefects) *approvalsAPI {
	t.Helper()
	dir := identity.NewDirectory(&config.Config{
		Operators: []config.Operator{{Name: "ops", Key: operatorKey}, {Name: "ops-2", Key: secondOperatorKey}},
		Tenants:   []config.Tenant{{Name: "acme", Keys: []config.APIKey{{Key: tenantKey, Application: "app", User: "u"}}}},
		Router:    config.Router{WorkerToken: workerKey},
	})
	a := &approvalsAPI{}
	opts := Options{Protection: Protection{"m": {digestOf("v3"): 2}}, Defects: d,
		OnApproval: func(_ context.Context, ev ApprovalEvent) { a.mu.Lock(); a.events = append(a.events, ev); a.mu.Unlock() }}
	srv := httptest.NewServer(Handler(store, dir, opts))
	t.Cleanup(srv.Close)
	a.apiClient = &apiClient{t: t, url: srv.URL, env: e}
	return a
}

// held decodes a held rollout answer.
func held(t *testing.T, r response) HeldRollout {
	t.Helper()
	var h HeldRollout
	if err := json.Unmarshal(r.body, &h); err != nil {
		t.Fatalf("not a held rollout: %s", r.body)
	}
	return h
}

// currentDigest is the model document's digest of "m".
func currentDigest(t *testing.T, s *Store) string {
	t.Helper()
	e, err := s.Get(t.Context(), BucketModels, "m")
	if err != nil {
		t.Fatal(err)
	}
	return movesTo(BucketModels, e.Value)
}

// TestProtectedRolloutWaitsForTwoDistinctOperators: a PUT to the protected digest is answered 202
// and not applied; one operator's approval, twice, counts once; tenant and workload credentials
// are refused and leave no approval; the second operator's approval applies it, and the approvals
// bucket's history holds every step.
func TestProtectedRolloutWaitsForTwoDistinctOperators(t *testing.T) {
	e := newEnv(t)
	a := newApprovalsAPI(t, e, e.store, ApprovalDefects{})
	mustPut(t, e.store, e, BucketModels, "m", model("v1"))
	r := a.do(http.MethodPut, "/v1/control/models/m", operatorKey, `{"artifact_digest":"`+digestOf("v3")+`"}`)
	h := held(t, r)
	if r.status != http.StatusAccepted || h.State != StatePending || h.Required != 2 || h.ProposedBy != "ops" {
		t.Fatalf("PUT to a protected pin answered %d %+v, want 202 pending_approval of 2", r.status, h)
	}
	path := "/v1/control/rollouts/" + h.ID + "/approvals"
	for _, key := range []string{tenantKey, workerKey} {
		if r := a.do(http.MethodPost, path, key, ""); r.status != http.StatusForbidden || r.reason != "forbidden" {
			t.Fatalf("approval with %s answered %d %s, want 403 forbidden", key, r.status, r.reason)
		}
	}
	for i := range 2 {
		if got := held(t, a.do(http.MethodPost, path, operatorKey, "")); len(got.Approvals) != 1 || got.State != StatePending {
			t.Fatalf("approval %d by the same operator: %+v, want one approval, pending", i+1, got)
		}
	}
	if got := currentDigest(t, e.store); got != digestOf("v1") {
		t.Fatalf("before the second operator approved, m is on %s", got)
	}
	got := held(t, a.do(http.MethodPost, path, secondOperatorKey, ""))
	if got.State != StateApplied || got.AppliedRevision == 0 || currentDigest(t, e.store) != digestOf("v3") {
		t.Fatalf("after two operators approved: %+v, m on %s; want applied v3", got, currentDigest(t, e.store))
	}
	if len(a.events) != 2 || a.events[0].By != "ops" || a.events[1].By != "ops-2" || !a.events[1].Applied {
		t.Fatalf("evidence events %+v, want ops's approval then ops-2's applying one", a.events)
	}
	hist, err := e.store.History(e.ctx(), BucketApprovals, h.ID)
	if err != nil || len(hist) != 4 { // held, ops approved, ops-2 approved (applying), applied
		t.Fatalf("approvals history %d revisions (%v), want 4", len(hist), err)
	}
	if r := a.do(http.MethodPut, "/v1/control/approvals/"+h.ID, operatorKey, `{}`); r.status != http.StatusBadRequest {
		t.Fatalf("writing the approvals bucket directly answered %d, want 400", r.status)
	}
}

// TestApprovalsSurviveARouterRestart: a rollout held and approved once through one API (and its
// JetStream connection) is approved again through a fresh one after the JetStream server itself
// restarted, and the first approval still counts.
func TestApprovalsSurviveARouterRestart(t *testing.T) {
	e := newEnv(t)
	first := newApprovalsAPI(t, e, e.store, ApprovalDefects{})
	mustPut(t, e.store, e, BucketModels, "m", model("v1"))
	h := held(t, first.do(http.MethodPut, "/v1/control/models/m", operatorKey, `{"artifact_digest":"`+digestOf("v3")+`"}`))
	first.do(http.MethodPost, "/v1/control/rollouts/"+h.ID+"/approvals", operatorKey, "")

	e.restart()
	nc, js, err := arjs.Connect(e.srv.URL(), "control-test-restarted")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	store, err := retry(t, func() (*Store, error) { return Open(e.ctx(), js, 1) })
	if err != nil {
		t.Fatal(err)
	}
	second := newApprovalsAPI(t, e, store, ApprovalDefects{})
	got := held(t, second.do(http.MethodPost, "/v1/control/rollouts/"+h.ID+"/approvals", secondOperatorKey, ""))
	if got.State != StateApplied || len(got.Approvals) != 2 || currentDigest(t, store) != digestOf("v3") {
		t.Fatalf("after the restart the second approval gave %+v, m on %s; want applied with both approvals", got, currentDigest(t, store))
	}
}

// TestRollbackToAProtectedRevisionIsHeld: once v3 was released and replaced, rolling back to
// its revision releases it again, so it waits for approval like a PUT.
func TestRollbackToAProtectedRevisionIsHeld(t *testing.T) {
	e := newEnv(t)
	a := newApprovalsAPI(t, e, e.store, ApprovalDefects{})
	mustPut(t, e.store, e, BucketModels, "m", model("v1"))
	h := held(t, a.do(http.MethodPut, "/v1/control/models/m", operatorKey, `{"artifact_digest":"`+digestOf("v3")+`"}`))
	a.do(http.MethodPost, "/v1/control/rollouts/"+h.ID+"/approvals", operatorKey, "")
	applied := held(t, a.do(http.MethodPost, "/v1/control/rollouts/"+h.ID+"/approvals", secondOperatorKey, ""))
	mustPut(t, e.store, e, BucketModels, "m", model("v1"))
	body, _ := json.Marshal(RollbackRequest{Revision: applied.AppliedRevision})
	r := a.do(http.MethodPost, "/v1/control/models/m/rollback", operatorKey, string(body))
	if r.status != http.StatusAccepted || held(t, r).State != StatePending || currentDigest(t, e.store) != digestOf("v1") {
		t.Fatalf("rollback to the protected revision answered %d %s, m on %s; want 202 held on v1", r.status, r.body, currentDigest(t, e.store))
	}
}

// TestApprovalDefectsBreakTheRule: each negative control's defect breaks what the first test
// holds, so those tests can fail.
func TestApprovalDefectsBreakTheRule(t *testing.T) {
	e := newEnv(t)
	mustPut(t, e.store, e, BucketModels, "m", model("v1"))
	put := `{"artifact_digest":"` + digestOf("v3") + `"}`
	if r := newApprovalsAPI(t, e, e.store, ApprovalDefects{ApplyAtOnce: true}).do(http.MethodPut, "/v1/control/models/m", operatorKey, put); r.status != http.StatusOK {
		t.Fatalf("ApplyAtOnce: PUT answered %d, want 200", r.status)
	}
	mustPut(t, e.store, e, BucketModels, "m", model("v1"))
	for _, tc := range []struct {
		name  string
		d     ApprovalDefects
		first string
	}{{"AnyRoleApproves", ApprovalDefects{AnyRoleApproves: true}, tenantKey}, {"CountRepeats", ApprovalDefects{CountRepeats: true}, operatorKey}} {
		a := newApprovalsAPI(t, e, e.store, tc.d)
		h := held(t, a.do(http.MethodPut, "/v1/control/models/m", operatorKey, put))
		a.do(http.MethodPost, "/v1/control/rollouts/"+h.ID+"/approvals", tc.first, "")
		if got := held(t, a.do(http.MethodPost, "/v1/control/rollouts/"+h.ID+"/approvals", operatorKey, "")); got.State != StateApplied {
			t.Fatalf("%s: %+v, want applied", tc.name, got)
		}
		mustPut(t, e.store, e, BucketModels, "m", model("v1"))
	}
}
