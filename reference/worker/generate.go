package worker

import (
	"context"
	"errors"
	"math"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
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
	tenant := req.GetTenant().GetTenant()
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
	prompt := tokenizer.Encode(req.GetPrompt())
	if m.ContextLength > 0 && int64(len(prompt))+maxTokens > int64(m.ContextLength) {
		return status.Errorf(codes.InvalidArgument, "prompt %d + max_tokens %d tokens exceed model %q context length %d",
			len(prompt), maxTokens, m.Name, m.ContextLength)
	}

	salt := s.salt(m.Name, tenant, req.GetClientCacheSalt())
	var look lookup // L1 only: every cached token is L1's
	if s.tiers != nil {
		look = s.tiers.promote(ctx, tenant, salt, prompt)
	}
	events, err := s.eng.Submit(ctx, engine.Request{
		ID:        req.GetRequestId(),
		Model:     m.Name,
		Salt:      salt,
		Prompt:    prompt,
		MaxTokens: int(min(maxTokens, math.MaxInt)),
		Seed:      req.GetSeed(),
		Tenant:    tenant,
	})
	if err != nil {
		return s.fail(req, err)
	}
	for ev := range events {
		if !ev.Done {
			if err := stream.Send(&arcertv1.GenerateResponse{Text: ev.Text}); err != nil {
				return err // the stream's context ends with the handler and aborts the sequence
			}
			continue
		}
		if ev.Err != nil {
			return s.fail(req, ev.Err)
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
	return status.Error(codes.Internal, "engine stream ended without a final event")
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
