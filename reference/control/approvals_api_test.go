package control

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// proposeV3 holds a PUT of m to the protected v3 and returns its id.
func proposeV3(t *testing.T, e *testEnv, a *approvalsAPI) string {
	t.Helper()
	mustPut(t, e.store, e, BucketModels, "m", model("v1"))
	r := a.do(http.MethodPut, "/v1/control/models/m", operatorKey, `{"artifact_digest":"`+digestOf("v3")+`"}`)
	if r.status != http.StatusAccepted {
		t.Fatalf("PUT to the protected pin answered %d %s, want 202", r.status, r.body)
	}
	return held(t, r).ID
}

// TestApprovalBodyIsEmptyOrEmptyObject: a body that says more than "I approve" (a field, other
// JSON, malformed JSON) is refused 400 naming the problem and counts nothing; empty and {} count.
func TestApprovalBodyIsEmptyOrEmptyObject(t *testing.T) {
	e := newEnv(t)
	a := newApprovalsAPI(t, e, e.store, ApprovalDefects{})
	id := proposeV3(t, e, a)
	path := "/v1/control/rollouts/" + id + "/approvals"
	for _, c := range []struct{ body, says, param string }{
		{`{"approve": false}`, `field "approve"`, "approve"},
		{`{`, "truncated", ""},
		{`{"a":1`, "truncated", ""},
		{`null`, "empty or {}", ""},
		{`[]`, "empty or {}", ""},
		{`{} {}`, "trailing", ""},
	} {
		r := a.do(http.MethodPost, path, operatorKey, c.body)
		if r.status != http.StatusBadRequest || r.reason != "invalid_request" || !strings.Contains(r.problem.Error.Message, c.says) || r.problem.Error.Param != c.param {
			t.Errorf("approval with body %s answered %d %s %q (param %q); want 400 invalid_request saying %q, param %q",
				c.body, r.status, r.reason, r.problem.Error.Message, r.problem.Error.Param, c.says, c.param)
		}
	}
	if got, err := e.store.HeldRollout(e.ctx(), id); err != nil || len(got.Approvals) != 0 {
		t.Fatalf("after refused approvals the rollout has %d approvals (%v), want 0", len(got.Approvals), err)
	}
	if got := held(t, a.do(http.MethodPost, path, operatorKey, " {} ")); got.State != StatePending || len(got.Approvals) != 1 {
		t.Fatalf("approval with {}: %s with %d approvals, want pending with 1", got.State, len(got.Approvals))
	}
	if got := held(t, a.do(http.MethodPost, path, secondOperatorKey, "")); got.State != StateApplied {
		t.Fatalf("approval with an empty body: %s, want applied", got.State)
	}
}

// TestRolloutIDs: an id that cannot be a rollout's is refused 400 naming it; a well-formed id
// nobody holds is 404, on both the read and the approval.
func TestRolloutIDs(t *testing.T) {
	e := newEnv(t)
	a := newApprovalsAPI(t, e, e.store, ApprovalDefects{})
	for _, c := range []struct {
		method, path string
		status       int
		says         string
	}{
		{http.MethodGet, "/v1/control/rollouts/ro-zzz", http.StatusBadRequest, `"ro-zzz"`},
		{http.MethodPost, "/v1/control/rollouts/not.an.id/approvals", http.StatusBadRequest, `"not.an.id"`},
		{http.MethodGet, "/v1/control/rollouts/ro-0123456789abcdef", http.StatusNotFound, `"ro-0123456789abcdef"`},
		{http.MethodPost, "/v1/control/rollouts/ro-0123456789abcdef/approvals", http.StatusNotFound, `"ro-0123456789abcdef"`},
	} {
		r := a.do(c.method, c.path, operatorKey, "")
		if r.status != c.status || !strings.Contains(r.problem.Error.Message, c.says) {
			t.Errorf("%s %s answered %d %q, want %d naming %s", c.method, c.path, r.status, r.problem.Error.Message, c.status, c.says)
		}
	}
}

// TestHeldRolloutDocument: a rollout document with weight to the protected digest is held and
// not written until approved; one with weight 0 moves nobody and is written at once.
func TestHeldRolloutDocument(t *testing.T) {
	e := newEnv(t)
	a := newApprovalsAPI(t, e, e.store, ApprovalDefects{})
	mustPut(t, e.store, e, BucketModels, "m", model("v1"))
	canary := func(weight string) string {
		return `{"from_digest":"` + digestOf("v1") + `","to_digest":"` + digestOf("v3") + `","weight":` + weight + `,"version":"c1"}`
	}
	r := a.do(http.MethodPut, "/v1/control/rollout/m", operatorKey, canary("50"))
	h := held(t, r)
	if r.status != http.StatusAccepted || h.State != StatePending || h.Bucket != BucketRollout || len(h.Approvals) != 0 {
		t.Fatalf("a 50%% canary to the protected pin answered %d %s, want 202 pending with no approvals", r.status, r.body)
	}
	if _, err := e.store.Get(e.ctx(), BucketRollout, "m"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the held canary's document is in the rollout bucket (%v)", err)
	}
	a.do(http.MethodPost, "/v1/control/rollouts/"+h.ID+"/approvals", operatorKey, "")
	if got := held(t, a.do(http.MethodPost, "/v1/control/rollouts/"+h.ID+"/approvals", secondOperatorKey, "")); got.State != StateApplied {
		t.Fatalf("the approved canary is %s, want applied", got.State)
	}
	if _, err := e.store.Get(e.ctx(), BucketRollout, "m"); err != nil {
		t.Fatalf("the approved canary's document is not in the rollout bucket: %v", err)
	}
	if r := a.do(http.MethodPut, "/v1/control/rollout/m", operatorKey, canary("0")); r.status != http.StatusOK {
		t.Fatalf("a canary of weight 0 answered %d %s, want 200: it moves nobody", r.status, r.body)
	}
}

// TestAlreadyOnTheProtectedPinIsNotHeld: a PUT that names the protected digest the model is
// already on releases nothing, so it is written at once.
func TestAlreadyOnTheProtectedPinIsNotHeld(t *testing.T) {
	e := newEnv(t)
	a := newApprovalsAPI(t, e, e.store, ApprovalDefects{})
	mustPut(t, e.store, e, BucketModels, "m", model("v3"))
	if r := a.do(http.MethodPut, "/v1/control/models/m", operatorKey, `{"artifact_digest":"`+digestOf("v3")+`"}`); r.status != http.StatusOK {
		t.Fatalf("a PUT of the protected digest m is already on answered %d %s, want 200", r.status, r.body)
	}
}

// TestWithdrawnRolloutIsNeverApplied: an operator withdraws a half-approved rollout; the last
// approval is then refused 409 and moves nothing; withdrawing again changes nothing; a tenant
// cannot withdraw; an applied rollout cannot be withdrawn.
func TestWithdrawnRolloutIsNeverApplied(t *testing.T) {
	e := newEnv(t)
	a := newApprovalsAPI(t, e, e.store, ApprovalDefects{})
	id := proposeV3(t, e, a)
	path := "/v1/control/rollouts/" + id
	a.do(http.MethodPost, path+"/approvals", operatorKey, "")
	if r := a.do(http.MethodDelete, path, tenantKey, ""); r.status != http.StatusForbidden {
		t.Fatalf("a tenant's withdrawal answered %d, want 403", r.status)
	}
	for i := range 2 {
		if got := held(t, a.do(http.MethodDelete, path, secondOperatorKey, "")); got.State != StateWithdrawn || got.WithdrawnBy != "ops-2" || len(got.Approvals) != 1 {
			t.Fatalf("withdrawal %d: %s by %q with %d approvals, want withdrawn by ops-2 keeping its approval", i+1, got.State, got.WithdrawnBy, len(got.Approvals))
		}
	}
	if r := a.do(http.MethodPost, path+"/approvals", secondOperatorKey, ""); r.status != http.StatusConflict || !strings.Contains(r.problem.Error.Message, "withdrawn") {
		t.Fatalf("approving a withdrawn rollout answered %d %s, want 409 saying it was withdrawn", r.status, r.body)
	}
	if got := currentDigest(t, e.store); got != digestOf("v1") {
		t.Fatalf("after the withdrawal m is on %s, want v1", got)
	}
	applied := proposeV3(t, e, a)
	a.do(http.MethodPost, "/v1/control/rollouts/"+applied+"/approvals", operatorKey, "")
	a.do(http.MethodPost, "/v1/control/rollouts/"+applied+"/approvals", secondOperatorKey, "")
	if r := a.do(http.MethodDelete, "/v1/control/rollouts/"+applied, operatorKey, ""); r.status != http.StatusConflict {
		t.Fatalf("withdrawing an applied rollout answered %d %s, want 409", r.status, r.body)
	}
}
