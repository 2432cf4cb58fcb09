package router

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/fallback"
	"github.com/aruntime/arcert/reference/routing"
)

// onPool leases a worker of the decision's pool and runs the request there. Load and prefix
// affinity choose the worker, but only inside the region and pool the plan chose, so a pick can
// never move a tenant's data where its policy was not asked about. retry reports a failure before
// any output, after which the request is planned again.
func (r *Router) onPool(ctx context.Context, j job, d fallback.Decision, affinity uint64, em emitter) (ending, bool) {
	place, attested := d.Place, r.attestedOnly(j, d)
	lease, err := r.pool.PickWhere(place.Model, affinity, func(w *routing.Worker) bool {
		return w.Region == place.Region && w.Pool == place.Pool && (!attested || w.Attested())
	})
	if err != nil {
		// The place went down between the plan and the pick; the next plan leaves it out.
		return refused(outcome.ReasonNoHealthyWorker, "no healthy worker left in "+place.String()), true
	}
	defer lease.Done()
	// The attestation the pick trusted, read once: evidence names it, and a worker whose report
	// lapsed since the pick's filter is not served on without one (the request is planned again).
	digest := ""
	if r.places.confidential[j.principal.Tenant] {
		v, _, err := lease.Worker.Attestation()
		switch {
		case err == nil:
			digest = v.Digest
		case attested:
			return refused(outcome.ReasonNoHealthyWorker, "the attestation of worker "+lease.Worker.ID+" lapsed at the pick: "+err.Error()), true
		}
	}
	// A prefill worker would hold the prompt too: a confidential tenant's is prefilled on the
	// attested worker that serves it.
	if n := r.cfg.Disaggregation.PrefillMinTokens; n > 0 && j.c.PromptTokens >= n && (!attested || r.defects.Confidential.PrefillAnywhere) &&
		(j.c.Stream || !r.defects.PrefillOnlyStreams) {
		r.prefill(ctx, j, d, affinity)
	}
	return r.generate(ctx, j, d, lease.Worker, digest, em)
}

// generate runs the request on worker w as decided by d, whose model may be the declared fallback;
// attestation is the digest of the attestation w was trusted on at the pick ("" for a tenant that
// needs none). retry reports a worker failure before any output, after which another place may be
// tried.
func (r *Router) generate(ctx context.Context, j job, d fallback.Decision, w *routing.Worker, attestation string, em emitter) (end ending, retry bool) {
	end.class, end.reason = d.Class, d.Reason
	end.servedBy = outcome.ServedBy{Region: w.Region, Pool: w.Pool, Provider: config.LocalProvider, Deployment: r.cfg.Runtime.Deployment, Worker: w.ID}
	end.model = d.Place.Model
	end.attestation = attestation
	if m, ok := r.model(d.Place.Model); ok {
		end.artifact = m.ArtifactDigest
	}
	// Bound to w: if the health checker finds w silent, the call ends at once (worker_lost below)
	// instead of hanging on a connection that drops its packets until the class deadline.
	ctx, release := w.Call(ctx)
	defer release()
	if r.defects.WorkerCall != nil {
		ctx = r.defects.WorkerCall(ctx, j.principal.Tenant)
	}
	if r.places.confidential[j.principal.Tenant] && !r.defects.Confidential.BlocksDemoted {
		// The worker keeps a confidential tenant's KV out of the shared (unattested) cache tier.
		ctx = metadata.AppendToOutgoingContext(ctx, metadataConfidential, "true")
	}
	stream, err := w.Client.Generate(ctx, generateRequest(j, d.Place.Model))
	if err != nil {
		return r.workerFailure(ctx, w, err, end)
	}
	if e, ok := em.(interface{ startsAtPick() bool }); ok && e.startsAtPick() {
		end.started = true // the GRPCStartsAtPick defect: headers now, so no retry after this
		if err := em.start(end); err != nil {
			return clientGone(end, err), false
		}
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			err = status.Error(codes.Unavailable, "worker closed the stream without a final message")
		}
		if err != nil {
			failed, retry := r.workerFailure(ctx, w, err, end)
			if e, ok := em.(splicer); ok && e.splices(failed, status.Convert(err)) {
				retry = true // a splice defect: output already sent or not
			}
			return failed, retry
		}
		if msg.GetText() != "" {
			if !end.started {
				end.started = true
				if err := em.start(end); err != nil {
					return clientGone(end, err), false
				}
			}
			if err := em.token(msg.GetText()); err != nil {
				return clientGone(end, err), false
			}
			end.delivered++
		}
		if u := msg.GetUsage(); u != nil {
			end.usage = tokenUsage{Prompt: u.GetPromptTokens(), Completion: u.GetCompletionTokens(), Cached: u.GetCachedTokens()}
			end.reported = true
			end.finish = msg.GetFinishReason()
			end.tier = msg.GetCachedTier()
			end.artifact = r.servedArtifact(stream, end.artifact)
			return end, false
		}
	}
}

// workerFailure classifies a failed Generate. Deadline and cancellation come from our own context;
// everything else is the worker's word, mapped onto the contract.
func (r *Router) workerFailure(ctx context.Context, w *routing.Worker, err error, end ending) (ending, bool) {
	st := status.Convert(err)
	set := func(reason outcome.Reason, msg string) {
		end.class, end.reason, end.message = reason.Class(), reason, msg
	}
	switch {
	case errors.Is(context.Cause(ctx), routing.ErrUnreachable):
		// The health checker found w silent and cut the call, as a reset connection would have:
		// lost, and retried elsewhere when nothing went out yet. w is already out of rotation.
		r.log.Warn("worker silent: call cut", "worker", w.ID, "mid_stream", end.started)
		set(outcome.ReasonWorkerLost, "worker "+w.ID+" stopped answering its health checks")
		return end, !end.started
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || st.Code() == codes.DeadlineExceeded:
		set(outcome.ReasonDeadline, "the deadline passed while generating")
	case errors.Is(ctx.Err(), context.Canceled):
		set(outcome.ReasonClientCancelled, "the caller went away")
	case devicePressure(st):
		set(outcome.ReasonDevicePressure, "worker "+w.ID+": "+st.Message())
		end.retryAfter = r.cfg.Router.RetryAfter
		return midStream(end), !end.started // another worker's device may not be under pressure
	case st.Code() == codes.ResourceExhausted:
		set(outcome.ReasonCapacity, "the worker's queue is full")
		end.retryAfter = r.cfg.Router.RetryAfter
	case st.Code() == codes.InvalidArgument:
		set(outcome.ReasonContextLengthExceeded, st.Message())
	case st.Code() == codes.NotFound:
		set(outcome.ReasonUnknownModel, st.Message())
	case deviceFault(st) && r.ops.NoDeviceFaultRetry:
		w.MarkUnhealthy(err)
		set(outcome.ReasonWorkerLost, "worker "+w.ID+" went away: "+st.Message())
		return end, false
	case deviceFault(st) || st.Code() == codes.Unavailable || st.Code() == codes.Unknown || st.Code() == codes.Aborted:
		w.MarkUnhealthy(err)
		r.log.Warn("worker failed", "worker", w.ID, "err", err, "mid_stream", end.started)
		set(outcome.ReasonWorkerLost, "worker "+w.ID+" went away: "+st.Message())
		return end, !end.started
	default:
		set(outcome.ReasonInternal, "worker "+w.ID+": "+st.Message())
	}
	return midStream(end), false
}

// midStream keeps a failure after output from reading as a refusal: a refusal now would tell the
// client to retry work it has half of, so the stream ends as an internal failure instead.
func midStream(end ending) ending {
	if end.started && (end.class == outcome.Rejected || end.class == outcome.Shed) {
		end.class, end.reason = outcome.Failed, outcome.ReasonInternal
	}
	return end
}

// metadataConfidential marks a Generate call of a confidential tenant (reference/worker spells
// the same string: MetadataConfidential).
const metadataConfidential = "arcert-confidential"

// generateRequest is what a worker is asked for j on model: the tenant bound at admission, never
// anything the client claimed, travels with it.
func generateRequest(j job, model string) *arcertv1.GenerateRequest {
	return &arcertv1.GenerateRequest{
		RequestId:       j.id,
		Tenant:          &arcertv1.TenantContext{Tenant: j.principal.Tenant, Application: j.principal.Application, User: j.principal.User},
		Model:           model,
		Prompt:          j.c.Prompt,
		MaxTokens:       int64(j.c.MaxTokens),
		Seed:            j.c.Seed,
		TrafficClass:    j.class.Name,
		ClientCacheSalt: j.c.CacheSalt,
		TraceId:         j.traceID,
	}
}
