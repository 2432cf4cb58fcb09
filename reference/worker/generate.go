package worker

import (
	"context"
	"errors"
	"math"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/tokenizer"
	"github.com/aruntime/arcert/reference/worker/engine"
)

// Generate runs one admitted request on the engine and streams one message
// per generated token, then a final message with usage and finish reason.
// Cancelling the stream aborts the sequence and frees its KV at the next
// engine step. Failures are gRPC statuses the router classifies into
// outcomes: see statusOf.
func (s *Server) Generate(req *arcertv1.GenerateRequest, stream grpc.ServerStreamingServer[arcertv1.GenerateResponse]) error {
	ctx := stream.Context()
	if err := s.authorize(ctx); err != nil {
		return err
	}
	tc := req.GetTenant()
	s.seen.recordValues(tc.GetTenant(), tc.GetApplication(), tc.GetUser())
	tenant := tc.GetTenant()
	if tenant == "" {
		return status.Error(codes.InvalidArgument, "tenant context is required")
	}
	m, ok := s.models[req.GetModel()]
	if !ok {
		return status.Errorf(codes.NotFound, "model %q is not served by worker %s", req.GetModel(), s.id)
	}
	maxTokens := req.GetMaxTokens()
	switch {
	case maxTokens < 1:
		return status.Errorf(codes.InvalidArgument, "max_tokens is %d, want at least 1", maxTokens)
	case m.MaxOutputTokens > 0 && maxTokens > int64(m.MaxOutputTokens):
		return status.Errorf(codes.InvalidArgument, "max_tokens %d exceeds model %q max output tokens %d", maxTokens, m.Name, m.MaxOutputTokens)
	}
	if !s.live.Load() {
		return status.Errorf(codes.Unavailable, "worker %s engine is not running", s.id)
	}
	// A device fault cuts this call through its context; registering fails once there is one.
	ctx, cut := context.WithCancelCause(ctx)
	defer cut(nil)
	call, err := s.inflight.start(cut)
	if err != nil {
		return deviceFaultStatus(s.id, err)
	}
	defer s.inflight.done(call)
	if err := s.res.admit(m.Name); err != nil {
		s.metrics.shedPressure()
		return pressureStatus(s.id, err)
	}
	outTokens := int(min(maxTokens, math.MaxInt))
	if req.GetPrefillOnly() {
		if s.tiers == nil {
			return status.Errorf(codes.FailedPrecondition, "worker %s has no shared cache tier to hand the KV over through", s.id)
		}
		outTokens = 1 // the prefill step; its token is not sent
	}
	prompt := tokenizer.Encode(req.GetPrompt())
	if m.ContextLength > 0 && int64(len(prompt))+maxTokens > int64(m.ContextLength) {
		return status.Errorf(codes.InvalidArgument, "prompt %d + max_tokens %d tokens exceed model %q context length %d",
			len(prompt), maxTokens, m.Name, m.ContextLength)
	}

	// The response header names the artifact this call runs on, as Versions reports it now:
	// evidence must name what served, and only the worker knows what it has applied (a router's
	// configuration still holds the pin it started with). It names this worker too, so a router
	// whose connection landed on another worker than it meant does not serve this answer under
	// that one's name (routing.MetadataWorkerID).
	if err := stream.SetHeader(metadata.Pairs(MetadataArtifactDigest, s.appliedDigest(m.Name), MetadataWorkerID, s.id)); err != nil {
		s.log.Debug("artifact header not set", "request_id", req.GetRequestId(), "err", err)
	}
	salt := s.salt(m.Name, tenant, req.GetClientCacheSalt())
	var look lookup // L1 only: every cached token is L1's
	if s.tiers != nil && confidentialCall(ctx) {
		s.tiers.markConfidential(tenant) // before Submit, so no block of this request is demoted
	}
	if s.tiers != nil {
		look = s.tiers.promote(ctx, tenant, salt, prompt)
	}
	phase := startPhases(ctx, req, m.Name)
	defer phase.end()
	events, err := s.eng.Submit(ctx, engine.Request{
		ID:        req.GetRequestId(),
		Model:     m.Name,
		Salt:      salt,
		Prompt:    prompt,
		MaxTokens: outTokens,
		Seed:      req.GetSeed(),
		Tenant:    tenant,
	})
	if err != nil {
		return s.failCut(ctx, req, err) // cut during the L2 promote: Submit saw the cancelled context
	}
	for ev := range events {
		if !ev.Done && req.GetPrefillOnly() {
			continue
		}
		if !ev.Done {
			if ctx.Err() != nil {
				// Cut (or cancelled) while the step that made this token ran: a token computed on
				// a device that has since faulted is not sent, so work that had sent nothing when
				// the fault hit still has sent nothing, and the router can move it elsewhere.
				return s.failCut(ctx, req, ctx.Err())
			}
			phase.token()
			if err := stream.Send(&arcertv1.GenerateResponse{Text: ev.Text}); err != nil {
				return err // the stream's context ends with the handler and aborts the sequence
			}
			continue
		}
		if ev.Err != nil {
			return s.failCut(ctx, req, ev.Err)
		}
		if req.GetPrefillOnly() {
			blocks := s.tiers.export(ctx, tenant, salt, prompt)
			s.log.Debug("prefilled", "request_id", req.GetRequestId(), "tenant", tenant, "blocks_exported", blocks)
			return stream.Send(&arcertv1.GenerateResponse{
				Usage:        &arcertv1.Usage{PromptTokens: int64(ev.Usage.PromptTokens), CachedTokens: int64(ev.Usage.CachedTokens)},
				FinishReason: FinishPrefill,
				CachedTier:   look.tier(ev.Usage),
			})
		}
		tier := look.tier(ev.Usage)
		s.log.Debug("generated", "request_id", req.GetRequestId(), "tenant", tenant, "model", m.Name,
			"prompt_tokens", ev.Usage.PromptTokens, "completion_tokens", ev.Usage.CompletionTokens,
			"cached_tokens", ev.Usage.CachedTokens, "cached_tier", tier)
		return stream.Send(&arcertv1.GenerateResponse{
			Usage: &arcertv1.Usage{
				PromptTokens:     int64(ev.Usage.PromptTokens),
				CompletionTokens: int64(ev.Usage.CompletionTokens),
				CachedTokens:     int64(ev.Usage.CachedTokens),
			},
			FinishReason: ev.FinishReason,
			CachedTier:   tier,
		})
	}
	return s.failCut(ctx, req, errors.New("engine stream ended without a final event"))
}

// MetadataArtifactDigest is the Generate response header that names the digest of the artifact
// the call was served with (reference/router spells the same string; it does not import the
// worker).
const MetadataArtifactDigest = "arcert-artifact-digest"

// MetadataWorkerID is the Generate response header that names the worker that answered
// (routing.MetadataWorkerID spells the same string: the worker does not import routing).
const MetadataWorkerID = "arcert-worker-id"

// MetadataConfidential is the Generate request header by which the router marks a request of a
// tenant whose policy requires confidential compute ("true"): the worker then keeps the tenant's
// KV blocks out of the shared cache tier, which runs unattested (reference/router spells the same
// string).
const MetadataConfidential = "arcert-confidential"

// confidentialCall reports whether the router marked this call confidential.
func confidentialCall(ctx context.Context) bool {
	v := metadata.ValueFromIncomingContext(ctx, MetadataConfidential) // that key alone, not a copy of all
	return len(v) > 0 && v[0] == "true"
}

// FinishPrefill is the finish reason of a prefill-only call: the KV went to the shared tier.
const FinishPrefill = "prefill"

// pressureStatus is the refusal of work under device pressure: ResourceExhausted like a full
// queue, told apart by an ErrorInfo whose reason is the outcome reason device_pressure.
func pressureStatus(worker string, err error) error {
	st := status.New(codes.ResourceExhausted, "worker "+worker+": "+err.Error())
	if d, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: string(outcome.ReasonDevicePressure), Domain: ErrorDomain}); derr == nil {
		st = d
	}
	return st.Err()
}

// ErrorDomain is the ErrorInfo domain of the worker's typed refusals.
const ErrorDomain = "worker.aruntime.dev"

// ReasonDeviceFault is the ErrorInfo reason of a call ended by a device fault (XID or ECC). The
// router (reference/router, which spells the same string) retries such a call on another worker
// when nothing was sent yet and ends it worker_lost otherwise, however far the call had got.
const ReasonDeviceFault = "device_fault"

// deviceFaultStatus is the end of a call cut or refused by a device fault: Unavailable, told
// apart from a stopped engine by its ErrorInfo, so no path reads it as an internal failure.
func deviceFaultStatus(worker string, err error) error {
	st := status.New(codes.Unavailable, "worker "+worker+": "+err.Error())
	if d, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: ReasonDeviceFault, Domain: ErrorDomain}); derr == nil {
		st = d
	}
	return st.Err()
}

// failCut is fail, except that a call whose context a device fault cut ends as a device fault
// whatever err says: a cut during the L2 promote reaches Submit as context.Canceled, which would
// otherwise read as the caller's cancellation.
func (s *Server) failCut(ctx context.Context, req *arcertv1.GenerateRequest, err error) error {
	if cause := context.Cause(ctx); errors.Is(cause, errDeviceFault) {
		s.log.Debug("generate cut by a device fault", "request_id", req.GetRequestId(), "err", err)
		return deviceFaultStatus(s.id, cause)
	}
	return s.fail(req, err)
}

// fail logs a failed request and returns its status.
func (s *Server) fail(req *arcertv1.GenerateRequest, err error) error {
	st := statusOf(err)
	s.log.Debug("generate failed", "request_id", req.GetRequestId(), "code", st.Code().String(), "err", err)
	return st.Err()
}

// statusOf maps an engine or context error to the gRPC status the router
// turns into an outcome: a full queue is retryable elsewhere
// (ResourceExhausted), a request that can never fit is the caller's problem
// (InvalidArgument), a stopped engine means try another worker
// (Unavailable), and the request's own deadline or cancellation keep their
// codes.
func statusOf(err error) *status.Status {
	switch {
	case errors.Is(err, engine.ErrOverloaded):
		return status.New(codes.ResourceExhausted, "worker queue full: "+err.Error())
	case errors.Is(err, engine.ErrTooLarge):
		return status.New(codes.InvalidArgument, "request exceeds the worker's context/kv capacity: "+err.Error())
	case errors.Is(err, engine.ErrStopped):
		return status.New(codes.Unavailable, "worker engine stopped: "+err.Error())
	case errors.Is(err, engine.ErrInvalid):
		return status.New(codes.InvalidArgument, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, err.Error())
	default:
		return status.New(codes.Internal, err.Error())
	}
}
