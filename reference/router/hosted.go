package router

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/fallback"
	"github.com/aruntime/arcert/reference/provider"
)

// providerCooldown is how long a provider that failed with provider.ErrUnavailable is left out of
// plans. The OpenAI API has no health endpoint to poll, so a failed request is the only signal:
// long enough that an outage does not cost every request a failed attempt first, short enough
// that a recovered provider serves again within seconds.
const providerCooldown = 5 * time.Second

// hostedProvider is one configured provider with its client and its health as last observed.
type hostedProvider struct {
	spec   config.Provider
	client *provider.Client
	// downUntil is when the provider may be tried again, in Unix nanoseconds; zero when it never
	// failed.
	downUntil atomic.Int64
}

// up reports whether the provider is outside its cooldown.
func (h *hostedProvider) up() bool { return time.Now().UnixNano() >= h.downUntil.Load() }

// markDown starts the provider's cooldown.
func (h *hostedProvider) markDown() { h.downUntil.Store(time.Now().Add(providerCooldown).UnixNano()) }

// errClientGone is what the token callback returns when the caller stopped reading, so that the
// provider client stops and the ending says who went away.
var errClientGone = errors.New("router: the caller stopped reading")

// onProvider runs the request at the hosted provider the plan chose, streaming into the same
// emitter a worker's tokens go to. The provider is sent the runtime's own key and the tenant's
// name as a label, never the tenant's credential (reference/provider sees to the rest). retry
// reports the provider unavailable before any output, after which the request is planned again.
func (r *Router) onProvider(ctx context.Context, j job, d fallback.Decision, em emitter) (end ending, retry bool) {
	h := r.places.providers[d.Place.Provider] // Plan chose it, so healthy found it
	end.class, end.reason = d.Class, d.Reason
	end.servedBy = d.Place.ServedBy()
	end.servedBy.Deployment = r.cfg.Runtime.Deployment
	end.model = d.Place.Model
	emit := func(text string) error {
		if !end.started {
			end.started = true
			if err := em.start(end); err != nil {
				return errors.Join(errClientGone, err)
			}
		}
		if err := em.token(text); err != nil {
			return errors.Join(errClientGone, err) // errClientTooSlow, if it was, is kept
		}
		end.delivered++
		return nil
	}
	u, err := h.client.Stream(provider.WithTenantLabel(ctx, j.principal.Tenant), j.c.upstream(d.Place.Model), emit)
	if err != nil {
		return r.providerFailure(ctx, h, err, end)
	}
	if !end.started { // an empty answer still goes out as an answer
		if err := em.start(end); err != nil {
			return clientGone(end, err), false
		}
	}
	end.started = true
	end.usage = tokenUsage{Prompt: int64(u.PromptTokens), Completion: int64(u.CompletionTokens), Cached: int64(u.CachedTokens)}
	end.reported = true
	if !u.Reported {
		end.usage.Prompt = int64(j.c.PromptTokens) // the client counted the pieces, not the prompt
	}
	end.finish = u.FinishReason
	if end.finish == "" {
		end.finish = "stop"
	}
	return end, false
}

// providerFailure classifies a failed hosted request. Unavailability is the provider's, never the
// tenant's, so it is a failure that another place may heal; a rejection is about the request
// itself and goes back to the caller as one.
func (r *Router) providerFailure(ctx context.Context, h *hostedProvider, err error, end ending) (ending, bool) {
	set := func(reason outcome.Reason, msg string) {
		end.class, end.reason, end.message = reason.Class(), reason, msg
	}
	name := h.spec.Name
	switch {
	case errors.Is(err, errClientGone):
		return clientGone(end, err), false
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		set(outcome.ReasonDeadline, "the deadline passed while the hosted provider answered")
	case errors.Is(ctx.Err(), context.Canceled):
		set(outcome.ReasonClientCancelled, "the caller went away")
	case errors.Is(err, provider.ErrUnavailable):
		h.markDown()
		r.syncCapacity()
		// When the cooldown ends the provider's slots come back; one timer says so, instead of
		// every request re-adding up capacity on the hot path.
		time.AfterFunc(providerCooldown, func() { r.syncCapacity() })
		r.log.Warn("hosted provider failed", "provider", name, "err", err, "mid_stream", end.started, "cooldown", providerCooldown)
		set(outcome.ReasonDependencyUnavailable, "hosted provider "+name+" is unavailable: "+err.Error())
		var ue *provider.UpstreamError
		if errors.As(err, &ue) {
			end.retryAfter = ue.RetryAfter
		}
		return end, !end.started
	case errors.Is(err, provider.ErrRejected):
		set(outcome.ReasonInvalidRequest, "hosted provider "+name+" refused the request: "+err.Error())
	default:
		set(outcome.ReasonInternal, "hosted provider "+name+": "+err.Error())
	}
	return midStream(end), false
}

// upstream is what a hosted provider is asked for c, serving model: a chat as a chat, a prompt as
// a prompt, with the caller's limits. The caller's user label and cache salt are not part of it.
func (c Completion) upstream(model string) openai.CompletionRequest {
	maxTokens := int64(c.MaxTokens)
	req := openai.CompletionRequest{Model: model, MaxTokens: &maxTokens}
	if c.Seed != 0 {
		seed := c.Seed
		req.Seed = &seed
	}
	if c.Chat {
		req.Messages = c.Messages
	} else {
		prompt := c.Prompt
		req.Prompt = &prompt
	}
	return req
}
