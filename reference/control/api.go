package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/identity"
)

// PathPrefix is where the operator API lives.
const PathPrefix = "/v1/control/"

// maxBodyBytes bounds a document: the largest real one is a few hundred bytes, so anything near
// this is a mistake or an attack, refused before it is read whole.
const maxBodyBytes = 64 << 10

// requestTimeout bounds the JetStream work of one operator request, so a store that is away
// answers dependency_unavailable instead of holding the operator's connection.
const requestTimeout = 5 * time.Second

// RollbackRequest is the body of POST /v1/control/{bucket}/{key}/rollback.
type RollbackRequest struct {
	Revision uint64 `json:"revision"`
}

// RevisionResponse answers a PUT or a rollback: the revision now current.
type RevisionResponse struct {
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	Revision uint64 `json:"revision"`
	// RolledBackTo is the revision whose value a rollback restored.
	RolledBackTo uint64 `json:"rolled_back_to,omitempty"`
}

// HistoryResponse answers GET .../history, oldest revision first.
type HistoryResponse struct {
	Entries []Entry `json:"entries"`
}

// Handler is the operator API over store. Only an operator credential of dir may call it: a
// missing or unknown credential is rejected as unauthenticated, a tenant's or worker's as
// forbidden, because changing what every tenant is served is the operator's alone.
//
//	GET  /v1/control/{bucket}/{key}           the current document
//	PUT  /v1/control/{bucket}/{key}           store a new revision (JSON body)
//	GET  /v1/control/{bucket}/{key}/history   every kept revision
//	POST /v1/control/{bucket}/{key}/rollback  {"revision": N} becomes current again
//	GET  /v1/control/rollouts/{id}            a rollout held for approval (see approvals_api.go)
//	POST /v1/control/rollouts/{id}/approvals  the calling operator approves it
//	DELETE /v1/control/rollouts/{id}          the calling operator withdraws it while pending
//
// A PUT or rollback that moves a model to one of opts.Protection's digests is not applied: it is
// held and answered 202 with the held rollout, until enough distinct operators approve it.
// Every response carries X-Request-Id, ARuntime-Outcome and ARuntime-Outcome-Reason.
func Handler(store *Store, dir *identity.Directory, opts Options) http.Handler {
	a := &api{store: store, opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathPrefix+"{bucket}/{key}", a.get)
	mux.HandleFunc("PUT "+PathPrefix+"{bucket}/{key}", a.put)
	mux.HandleFunc("GET "+PathPrefix+"{bucket}/{key}/history", a.history)
	mux.HandleFunc("POST "+PathPrefix+"{bucket}/{key}/rollback", a.rollback)
	mux.HandleFunc("GET "+PathPrefix+"rollouts/{id}", a.heldRollout)
	mux.HandleFunc("POST "+PathPrefix+approvalsPattern, a.approve)
	mux.HandleFunc("DELETE "+PathPrefix+"rollouts/{id}", a.withdraw)
	// No catch-all: the mux's own 404 and 405 (with Allow) get their outcome from withOutcome.
	return withOutcome(operatorOnly(dir, opts.Defects.AnyRoleApproves, mux))
}

// Options are the Handler's optional parts.
type Options struct {
	// Protection lists the protected pins; nil protects nothing.
	Protection Protection
	// OnApproval, when set, is told of every approval counted and every held rollout applied, so
	// the runtime can append them to the evidence chain.
	OnApproval func(ctx context.Context, ev ApprovalEvent)
	// Defects are the negative controls' approval bugs; zero in a real runtime.
	Defects ApprovalDefects
}

// principalKey carries the authenticated principal to the handlers.
type principalKey struct{}

// operatorOnly lets only operator principals through, before any routing, so that what the API
// holds cannot even be probed with another credential. anyApproves is the tenant-can-approve
// negative control: every known credential reaches the approvals endpoint.
func operatorOnly(dir *identity.Directory, anyApproves bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p, err := dir.Authenticate(req.Header.Get("Authorization"))
		switch {
		case err != nil:
			w.Header().Set("WWW-Authenticate", "Bearer")
			refuse(w, http.StatusUnauthorized, outcome.ReasonUnauthenticated, "an operator credential is required", "")
		case p.Role != identity.RoleOperator && (!anyApproves || !isApproval(req)):
			refuse(w, http.StatusForbidden, outcome.ReasonForbidden, "only the operator identity may call the control API", "")
		default:
			next.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), principalKey{}, p)))
		}
	})
}

type api struct {
	store *Store
	opts  Options
}

func (a *api) get(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := withTimeout(req)
	defer cancel()
	e, err := a.store.Get(ctx, req.PathValue("bucket"), req.PathValue("key"))
	if err != nil {
		storeError(w, err)
		return
	}
	ok(w, e)
}

func (a *api) put(w http.ResponseWriter, req *http.Request) {
	body, good := readBody(w, req)
	if !good {
		return
	}
	ctx, cancel := withTimeout(req)
	defer cancel()
	bucket, key := req.PathValue("bucket"), req.PathValue("key")
	if recordOnly(w, bucket) || a.held(ctx, w, req, bucket, key, body) {
		return
	}
	rev, err := a.store.Put(ctx, bucket, key, json.RawMessage(body))
	if err != nil {
		storeError(w, err)
		return
	}
	ok(w, RevisionResponse{Bucket: bucket, Key: key, Revision: rev})
}

func (a *api) history(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := withTimeout(req)
	defer cancel()
	es, err := a.store.History(ctx, req.PathValue("bucket"), req.PathValue("key"))
	if err != nil {
		storeError(w, err)
		return
	}
	ok(w, HistoryResponse{Entries: es})
}

func (a *api) rollback(w http.ResponseWriter, req *http.Request) {
	body, good := readBody(w, req)
	if !good {
		return
	}
	var rb RollbackRequest
	if err := decodeStrict(body, &rb); err != nil {
		fe := fieldError("rollback", err)
		refuse(w, http.StatusBadRequest, outcome.ReasonInvalidRequest, fe.Error(), fe.Field)
		return
	}
	if rb.Revision == 0 {
		refuse(w, http.StatusBadRequest, outcome.ReasonInvalidRequest, "revision is required and starts at 1", "revision")
		return
	}
	ctx, cancel := withTimeout(req)
	defer cancel()
	bucket, key := req.PathValue("bucket"), req.PathValue("key")
	if recordOnly(w, bucket) {
		return
	}
	// Rolling back to a revision that named a protected digest releases it as much as a PUT.
	if old, err := a.store.revision(ctx, bucket, key, rb.Revision); err == nil && a.held(ctx, w, req, bucket, key, old) {
		return
	}
	rev, err := a.store.Rollback(ctx, bucket, key, rb.Revision)
	if err != nil {
		storeError(w, err)
		return
	}
	ok(w, RevisionResponse{Bucket: bucket, Key: key, Revision: rev, RolledBackTo: rb.Revision})
}

// recordOnly refuses a write to the autoscale bucket: its documents are the autoscaler's record
// of what it did, and one written over the API would be history an operator forged, not a
// decision (writing one changes nothing either). On refusal it has answered and returns true.
func recordOnly(w http.ResponseWriter, bucket string) bool {
	if bucket != BucketAutoscale {
		return false
	}
	refuse(w, http.StatusBadRequest, outcome.ReasonInvalidRequest, "the autoscale bucket is the autoscaler's record: it is read, never written, over the control API", "bucket")
	return true
}

// readBody reads a bounded body; on failure it has answered and good is false.
func readBody(w http.ResponseWriter, req *http.Request) (body []byte, good bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		refuse(w, http.StatusRequestEntityTooLarge, outcome.ReasonBodyTooLarge,
			"the body is over "+strconv.Itoa(maxBodyBytes)+" bytes", "")
		return nil, false
	case err != nil:
		refuse(w, http.StatusBadRequest, outcome.ReasonInvalidRequest, fmt.Sprintf("reading the body: %v", err), "")
		return nil, false
	}
	return body, true
}

// storeError answers a Store error with the outcome it stands for.
func storeError(w http.ResponseWriter, err error) {
	var fe *FieldError
	switch {
	case errors.As(err, &fe):
		refuse(w, http.StatusBadRequest, outcome.ReasonInvalidRequest, fe.Error(), fe.Field)
	case errors.Is(err, ErrApprovalsReadOnly):
		refuse(w, http.StatusBadRequest, outcome.ReasonInvalidRequest, err.Error()+": POST "+PathPrefix+approvalsPattern, "bucket")
	case errors.Is(err, ErrUnknownBucket), errors.Is(err, ErrNotFound), errors.Is(err, ErrRevisionNotFound), errors.Is(err, ErrRolloutNotFound):
		refuse(w, http.StatusNotFound, outcome.ReasonNotFound, err.Error(), "")
	case errors.Is(err, ErrRolloutNotPending):
		refuse(w, http.StatusConflict, outcome.ReasonInvalidRequest, err.Error(), "id")
	case errors.Is(err, ErrInvalidRolloutID):
		refuse(w, http.StatusBadRequest, outcome.ReasonInvalidRequest, err.Error(), "id")
	case errors.Is(err, ErrInvalidKey):
		refuse(w, http.StatusBadRequest, outcome.ReasonInvalidRequest, err.Error(), "key")
	default:
		refuse(w, outcome.StatusFor(outcome.ReasonDependencyUnavailable), outcome.ReasonDependencyUnavailable, err.Error(), "")
	}
}
