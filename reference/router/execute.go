package router

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/admission"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/routing"
)

// emitter is the wire a served request's output goes out on (an HTTP body, an SSE stream, a
// gRPC stream). start is called once, just before the first token, so that a request refused
// before any output still gets its own status code.
type emitter interface {
	start(servedBy outcome.ServedBy) error
	token(text string) error
}

// ending is how one request ended: exactly one class and reason, plus what it consumed.
type ending struct {
	class      outcome.Class
	reason     outcome.Reason
	servedBy   outcome.ServedBy
	message    string
	retryAfter time.Duration
	// started reports that output went out before the end; a failure is then a mid-stream one.
	started bool
	usage   tokenUsage
	finish  string
	// artifact is the digest of the artifact that served the request, for evidence.
	artifact string
	// tier is the cache tier that served the cached prompt tokens.
	tier string
	// collected is the output of a request run without a client attached (a batch job).
	collected string
}

// tokenUsage is what a served request consumed, as the worker counted it.
type tokenUsage struct{ Prompt, Completion, Cached int64 }

// refused is the ending of a request refused for reason r.
func refused(r outcome.Reason, msg string) ending {
	return ending{class: r.Class(), reason: r, message: msg}
}

// job is one admitted request on its way through execute.
type job struct {
	id        string
	traceID   string
	principal identity.Principal
	class     config.TrafficClass
	c         Completion
}

// affinityPrefixBytes is how much of a prompt decides prefix affinity: enough to cover a system
// prompt shared by many requests, little enough to hash on every request.
const affinityPrefixBytes = 256

// maxAttempts bounds how many workers one request may be tried on. A retry happens only when a
// worker failed before sending anything, so a client never sees output twice.
const maxAttempts = 2

// execute admits, routes and runs one validated request, writing its output to em.
func (r *Router) execute(ctx context.Context, j job, em emitter) ending {
	if !r.pool.Serves(j.c.Model.Name) {
		return refused(outcome.ReasonNoHealthyWorker, "no healthy worker serves model "+j.c.Model.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, j.class.Deadline)
	defer cancel()
	ticket, err := r.adm.Admit(ctx, admission.Request{Tenant: j.principal.Tenant, Class: j.class.Name, Tokens: j.c.PromptTokens + j.c.MaxTokens})
	if err != nil {
		return r.admissionEnding(err)
	}
	defer ticket.Release()
	r.metrics.queueWait.WithLabelValues(j.class.Name).Observe(ticket.Waited().Seconds())

	prefix := j.c.Prompt[:min(len(j.c.Prompt), affinityPrefixBytes)]
	affinity := routing.AffinityKey(j.principal.Tenant, prefix)
	var end ending
	for range maxAttempts {
		lease, err := r.pool.Pick(j.c.Model.Name, affinity)
		if err != nil {
			if end.reason != "" {
				return end // the failed attempt says more than "no worker left"
			}
			return refused(outcome.ReasonNoHealthyWorker, "no healthy worker serves model "+j.c.Model.Name)
		}
		var retry bool
		end, retry = r.generate(ctx, j, lease.Worker, em)
		lease.Done()
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

// generate runs the request on worker w. retry reports a worker failure before any output, after
// which another worker may be tried.
func (r *Router) generate(ctx context.Context, j job, w *routing.Worker, em emitter) (end ending, retry bool) {
	end.servedBy = outcome.ServedBy{Region: w.Region, Pool: w.Pool, Provider: localProvider, Deployment: r.cfg.Runtime.Deployment, Worker: w.ID}
	end.artifact = j.c.Model.ArtifactDigest
	stream, err := w.Client.Generate(ctx, &arcertv1.GenerateRequest{
		RequestId:       j.id,
		Tenant:          &arcertv1.TenantContext{Tenant: j.principal.Tenant, Application: j.principal.Application, User: j.principal.User},
		Model:           j.c.Model.Name,
		Prompt:          j.c.Prompt,
		MaxTokens:       int64(j.c.MaxTokens),
		Seed:            j.c.Seed,
		TrafficClass:    j.class.Name,
		ClientCacheSalt: j.c.CacheSalt,
		TraceId:         j.traceID,
	})
	if err != nil {
		return r.workerFailure(ctx, w, err, end)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			err = status.Error(codes.Unavailable, "worker closed the stream without a final message")
		}
		if err != nil {
			return r.workerFailure(ctx, w, err, end)
		}
		if msg.GetText() != "" {
			if !end.started {
				end.started = true
				if err := em.start(end.servedBy); err != nil {
					return clientGone(end), false
				}
			}
			if err := em.token(msg.GetText()); err != nil {
				return clientGone(end), false
			}
		}
		if u := msg.GetUsage(); u != nil {
			end.usage = tokenUsage{Prompt: u.GetPromptTokens(), Completion: u.GetCompletionTokens(), Cached: u.GetCachedTokens()}
			end.finish = msg.GetFinishReason()
			end.tier = msg.GetCachedTier()
			end.class, end.reason = outcome.Completed, outcome.ReasonNone
			return end, false
		}
	}
}

// clientGone is the ending of a request whose caller stopped reading.
func clientGone(end ending) ending {
	end.class, end.reason, end.message = outcome.Failed, outcome.ReasonClientCancelled, "the caller went away mid-response"
	return end
}

// localProvider names this runtime's own workers in ARuntime-Served-By, as opposed to a hosted one.
const localProvider = "aruntime"

// workerFailure classifies a failed Generate. Deadline and cancellation come from our own context;
// everything else is the worker's word, mapped onto the contract.
func (r *Router) workerFailure(ctx context.Context, w *routing.Worker, err error, end ending) (ending, bool) {
	st := status.Convert(err)
	set := func(reason outcome.Reason, msg string) {
		end.class, end.reason, end.message = reason.Class(), reason, msg
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || st.Code() == codes.DeadlineExceeded:
		set(outcome.ReasonDeadline, "the deadline passed while generating")
	case errors.Is(ctx.Err(), context.Canceled):
		set(outcome.ReasonClientCancelled, "the caller went away")
	case st.Code() == codes.ResourceExhausted:
		set(outcome.ReasonCapacity, "the worker's queue is full")
		end.retryAfter = r.cfg.Router.RetryAfter
	case st.Code() == codes.InvalidArgument:
		set(outcome.ReasonContextLengthExceeded, st.Message())
	case st.Code() == codes.NotFound:
		set(outcome.ReasonUnknownModel, st.Message())
	case st.Code() == codes.Unavailable || st.Code() == codes.Unknown || st.Code() == codes.Aborted:
		w.MarkUnhealthy(err)
		r.log.Warn("worker failed", "worker", w.ID, "err", err, "mid_stream", end.started)
		set(outcome.ReasonWorkerLost, "worker "+w.ID+" went away: "+st.Message())
		return end, !end.started
	default:
		set(outcome.ReasonInternal, "worker "+w.ID+": "+st.Message())
	}
	if end.started && (end.class == outcome.Rejected || end.class == outcome.Shed) {
		// Output already went out: a refusal now would tell the client to retry work it has half
		// of. The worker broke its own admission, so the stream ends as an internal failure.
		end.class, end.reason = outcome.Failed, outcome.ReasonInternal
	}
	return end, false
}
