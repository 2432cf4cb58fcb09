package router

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/admission"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/fallback"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/routing"
)

// emitter is the wire a served request's output goes out on (an HTTP body, an SSE stream, a
// gRPC stream). start is called once, just before the first token, so that a request refused
// before any output still gets its own status code; head is the ending as far as it is known
// then: where the request is served and the class the plan gave it (completed, rerouted or
// degraded), which a stream's headers state before its trailers confirm or correct them.
type emitter interface {
	start(head ending) error
	token(text string) error
}

// ending is how one request ended: exactly one class and reason, plus what it consumed.
type ending struct {
	class    outcome.Class
	reason   outcome.Reason
	servedBy outcome.ServedBy
	message  string
	// param is the request field a refusal is about, for the OpenAI error body's param.
	param      string
	retryAfter time.Duration
	// started reports that output went out before the end; a failure is then a mid-stream one.
	started bool
	usage   tokenUsage
	finish  string
	// model is the model that served the request: the one asked for, or its declared fallback.
	model string
	// artifact is the digest of the artifact that served the request, for evidence; empty when a
	// hosted provider served it.
	artifact string
	// tier is the cache tier that served the cached prompt tokens.
	tier string
	// attestation is the digest of the attestation of the worker that served a confidential
	// tenant's request, for evidence.
	attestation string
	// collected is the output of a request run without a client attached (a batch job).
	collected string
	// delivered counts the completion tokens the emitter took: what went out before the end.
	delivered int64
	// reported is set when the worker or provider finished and counted usage itself.
	reported bool
	// toolCalls are the client-side tool calls the response hands to the caller.
	toolCalls []openai.ToolCall
	// tools are the evidence of the request's tool calls.
	tools []discovery.ToolCall
}

// tokenUsage is what a served request consumed, as the worker counted it.
type tokenUsage struct{ Prompt, Completion, Cached int64 }

// refused is the ending of a request refused for reason r.
func refused(r outcome.Reason, msg string) ending {
	return ending{class: r.Class(), reason: r, message: msg}
}

// job is one admitted request on its way through execute.
type job struct {
	id      string
	traceID string
	// span is the request's span (aruntime.request): evidence is written under it.
	span trace.Span
	// arrived is when the request reached the router, for time to first token.
	arrived   time.Time
	principal identity.Principal
	class     config.TrafficClass
	c         Completion
	// tool is the request's tool call, planned by planTool; nil for none.
	tool *toolRun
	// connTenant, set only by the GRPCQuotaByConnection defect, is the tenant admission
	// charges instead of the caller's.
	connTenant string
}

// maxAttempts bounds how many places one request may be tried on. A retry happens only when a
// place failed before sending anything, so a client never sees output twice, and each failure
// takes the failed worker or provider out of the next plan. Three covers losing both workers of
// the dev configuration's primary pool and still being served one move further.
const maxAttempts = 3

// execute plans, admits, routes and runs one validated request, writing its output to em.
//
// The plan comes first: a request no place may serve (none healthy, or only places the tenant's
// data policy forbids) is refused before it takes quota or queues for a slot. Every attempt then
// plans again, so a place that went down while the request queued, or failed it a moment ago, is
// left out, and the decision's class (completed, rerouted, degraded) is the one the request ends
// with when it is served.
func (r *Router) execute(ctx context.Context, j job, em emitter) ending {
	if j.arrived.IsZero() {
		j.arrived = time.Now()
	}
	te := r.metrics.timed(em, j, j.arrived)
	end := r.serve(ctx, j, te)
	end.usage = delivered(j, end, em)
	te.observe()
	return end
}

// serveRequest is serve past the tool plan: the ending as the places it was tried on left it.
func (r *Router) serveRequest(ctx context.Context, j job, em emitter) ending {
	_, end := r.plan(j) // refuse what no place may serve before it takes quota or a slot
	if end.reason != "" {
		r.hedgeForbidden(ctx, j, end)
		return end
	}
	cancel := context.CancelFunc(func() {})
	if !r.defects.QueueWaitUncounted { // the defect leaves the queue wait on no clock
		ctx, cancel = context.WithTimeout(ctx, j.class.Deadline)
	}
	defer cancel()
	actx, aspan := tracer.Start(ctx, "aruntime.admission")
	ticket, err := r.adm.Admit(actx, admission.Request{Tenant: r.defects.Labels.quotaTenant(r, j), Class: j.class.Name, Tokens: j.c.PromptTokens + j.c.MaxTokens})
	if err != nil {
		end = r.admissionEnding(err)
		endAdmission(aspan, end)
		return end
	}
	defer ticket.Release()
	traceQueueWait(actx, j, ticket.Waited())
	endAdmission(aspan, ending{})
	if r.defects.QueueWaitUncounted {
		var run context.CancelFunc
		ctx, run = context.WithTimeout(ctx, j.class.Deadline)
		defer run()
	}
	r.metrics.queueWait.WithLabelValues(j.class.Name).Observe(ticket.Waited().Seconds())
	if end, done := r.toolStep(ctx, &j, em); done {
		return end
	}

	affinity := routing.AffinityKey(j.principal.Tenant, j.c.Prompt) // it looks at the prefix only
	for attempt := range maxAttempts {
		d, next := r.plan(j)
		if next.reason != "" {
			if attempt > 0 {
				// The failed attempt says what happened (worker_lost, ...); a refusal now, such as
				// a policy that forbids every remaining place, would tell the caller that retrying
				// cannot help when the runtime, not the request, failed.
				return end
			}
			return next
		}
		var retry bool
		actx, ended := startAttempt(ctx, attempt, d)
		if d.Place.Kind == fallback.KindProvider {
			end, retry = r.onProvider(actx, j, d, em)
		} else {
			end, retry = r.onPool(actx, j, d, affinity, em)
		}
		ended(end)
		if !retry {
			return end
		}
	}
	return end
}

// admissionEnding classifies an admission refusal. Each admission error is its own outcome: a
// quota is not a capacity problem, and a full queue is not a deadline.
func (r *Router) admissionEnding(err error) ending {
	var qe *admission.QuotaError
	switch {
	case errors.As(err, &qe):
		e := refused(outcome.ReasonQuotaExceeded, "tenant "+qe.Tenant+" spent its "+qe.Dimension+" per minute")
		e.retryAfter = qe.RetryAfter
		return e
	case errors.Is(err, admission.ErrConcurrency):
		return refused(outcome.ReasonConcurrencyExceeded, "the tenant already has its declared number of requests in flight")
	case errors.Is(err, admission.ErrQueueFull):
		e := refused(outcome.ReasonQueueFull, "the traffic class's queue is full")
		e.retryAfter = r.cfg.Router.RetryAfter
		return e
	case errors.Is(err, admission.ErrDraining):
		e := refused(outcome.ReasonDraining, "the runtime is shutting down")
		e.retryAfter = r.cfg.Router.RetryAfter
		return e
	case errors.Is(err, admission.ErrDeadline), errors.Is(err, context.DeadlineExceeded):
		return refused(outcome.ReasonDeadline, "the deadline passed while queued")
	case errors.Is(err, context.Canceled):
		return refused(outcome.ReasonClientCancelled, "the caller went away while queued")
	default:
		return refused(outcome.ReasonInternal, "admission: "+err.Error())
	}
}
