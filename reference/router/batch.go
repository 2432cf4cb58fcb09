package router

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/batch"
	"github.com/aruntime/arcert/reference/identity"
)

// batchClass is the traffic class batch jobs run in when the tenant has it; otherwise its default.
const batchClass = "batch"

// submitBatch serves POST /v1/batches: the tenant's jobs go to the durable queue.
func (r *Router) submitBatch(w http.ResponseWriter, req *http.Request) {
	p, ok := r.caller(w, req, identity.RoleTenant)
	if !ok {
		return
	}
	body, end := r.readBody(w, req)
	if end.reason != "" {
		writeRefusal(w, end, "")
		return
	}
	var sub batch.Submission
	if err := json.Unmarshal(body, &sub); err != nil {
		writeRefusal(w, refused(outcome.ReasonInvalidRequest, "malformed batch: "+jsonMessage(err)), "")
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), queueTimeout)
	defer cancel()
	b, err := r.batches.Submit(ctx, batch.Principal{Tenant: p.Tenant, Application: p.Application, User: p.User},
		req.Header.Get("Idempotency-Key"), sub)
	switch {
	case errors.Is(err, batch.ErrInvalid):
		writeRefusal(w, refused(outcome.ReasonInvalidRequest, err.Error()), "")
	case errors.Is(err, batch.ErrQueueFull):
		e := refused(outcome.ReasonQueueFull, err.Error())
		e.retryAfter = r.cfg.Router.RetryAfter
		writeRefusal(w, e, "")
	case err != nil:
		writeRefusal(w, refused(outcome.ReasonDependencyUnavailable, "the batch queue is unavailable: "+err.Error()), "")
	default:
		writeOK(w, b)
	}
}

// queueTimeout bounds one batch call's work on the queue: with the queue away, JetStream would
// otherwise wait out its own request timeout, and the caller deserves a refusal in time.
const queueTimeout = 3 * time.Second

// getBatch serves GET /v1/batches/{id}: only the tenant that submitted it sees it.
func (r *Router) getBatch(w http.ResponseWriter, req *http.Request) {
	p, ok := r.caller(w, req, identity.RoleTenant)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), queueTimeout)
	defer cancel()
	started := time.Now()
	b, err := r.batches.Get(ctx, p.Tenant, req.PathValue("id"))
	var end ending
	switch {
	case errors.Is(err, batch.ErrNotFound):
		end = refused(outcome.ReasonNotFound, "no batch "+quote(req.PathValue("id"))+" of yours")
		writeRefusal(w, end, "id")
	case err != nil:
		end = refused(outcome.ReasonDependencyUnavailable, "the batch queue is unavailable: "+err.Error())
		writeRefusal(w, end, "")
	default:
		writeOK(w, b)
		return
	}
	// A refused lookup is counted with the tenant's other outcomes, outside any traffic class.
	r.metrics.observe(p.Tenant, "", end, time.Since(started), nil)
}

// ExecBatchJob runs one queued job as the tenant bound when its batch was submitted: decoded,
// admitted in the batch class, routed, classified and evidenced like any request.
func (r *Router) ExecBatchJob(ctx context.Context, bp batch.Principal, requestID string, body []byte) batch.Response {
	started := time.Now()
	p := identity.Principal{Role: identity.RoleTenant, Tenant: bp.Tenant, Application: bp.Application, User: bp.User}
	j := job{id: requestID, traceID: newID(""), principal: p}
	class, end := r.trafficClass(p, batchClass)
	if end.reason != "" {
		class, end = r.trafficClass(p, "")
	}
	j.class = class
	if end.reason == "" {
		c, ref := DecodeCompletion(body, true, r.model)
		j.c = c
		j.c.Stream = false // a job has no client to stream to
		if ref != nil {
			end = refused(ref.Reason, ref.Message)
		} else {
			col := &collector{}
			end = r.execute(ctx, j, col)
			end.collected = col.text.String()
		}
	}
	r.record(j, end, started)
	return batchResponse(j, end)
}

// collector gathers a job's output.
type collector struct{ text strings.Builder }

func (c *collector) start(ending) error   { return nil }
func (c *collector) token(s string) error { c.text.WriteString(s); return nil }

// batchResponse is what the synchronous endpoint would have answered.
func batchResponse(j job, end ending) batch.Response {
	resp := batch.Response{StatusCode: outcome.StatusFor(end.reason), Outcome: string(end.class), Reason: string(end.reason), RequestID: j.id}
	var body any = errorBody(end, "")
	if end.class.Served() {
		body = openai.CompletionResponse{ID: j.id, Object: "chat.completion", Created: time.Now().Unix(), Model: j.c.Model.Name,
			Choices: []openai.Choice{{Message: &openai.ChatMessage{Role: "assistant", Content: end.collected, ToolCalls: end.toolCalls}, FinishReason: end.finish}},
			Usage:   usage(end), Outcome: wireOutcome(end)}
	}
	resp.Body, _ = json.Marshal(body)
	return resp
}
