// Package fallback decides where a request may be served when the place it would normally go is
// down: another pool of the same region, a pool of another region, the hosted provider, or last a
// declared fallback model. It is pure decision logic, so that the one rule the guidance insists on
// can be tested exhaustively without a network: a fallback must preserve the tenant's data policy
// and must never broaden authority. A place outside the tenant's allowed regions, or a hosted
// provider the tenant has not allowed, is never chosen, not even when it is the only healthy one;
// the request is refused instead (policy_forbids_fallback).
package fallback

import (
	"errors"
	"fmt"

	"github.com/aruntime/arcert/api/outcome"
)

// Sentinel errors of Plan, matched with errors.Is. Each is a different outcome for the caller, so
// they are kept apart: the two policy errors are rejections (retrying unchanged will not help),
// ErrNoPlace is a failure that may heal.
var (
	// ErrPolicyForbidsFallback means places that could serve exist, healthy or by region, but the
	// tenant's policy forbids every one of them that is left (outcome policy_forbids_fallback).
	ErrPolicyForbidsFallback = errors.New("fallback: the tenant's policy forbids every remaining place")
	// ErrPolicyForbidsRegion means the tenant's allowed regions contain the region of no place in
	// the chain at all, healthy or not (outcome policy_forbids_region).
	ErrPolicyForbidsRegion = errors.New("fallback: the tenant's policy allows no region of the chain")
	// ErrNoPlace means no place of the chain is healthy, allowed or not (outcome
	// no_healthy_worker), or the chain is empty.
	ErrNoPlace = errors.New("fallback: no healthy place")
	// ErrInvalidChain means a place of the chain cannot be judged: an unknown kind, no region, or
	// a reduction that is not a degraded reason. It is a configuration bug, never a policy answer.
	ErrInvalidChain = errors.New("fallback: invalid chain")
)

// Kind says what serves a place: the runtime's own worker pool or a hosted provider.
type Kind string

// The kinds of place.
const (
	// KindPool is a pool of this runtime's own workers in one region.
	KindPool Kind = "pool"
	// KindProvider is a hosted OpenAI-compatible provider. Sending data there is hosted fallback,
	// which the tenant's policy must allow on top of the provider's region.
	KindProvider Kind = "provider"
)

// Place is one place a model can be served. Region is where the data goes; for a provider it is
// the provider's declared region, because a hosted provider moves data as much as a remote pool.
type Place struct {
	Kind     Kind   `json:"kind"`
	Region   string `json:"region"`
	Pool     string `json:"pool,omitempty"`
	Provider string `json:"provider,omitempty"`
	// Model is the model served there, which is the requested one unless Reduction says otherwise.
	Model string `json:"model"`
	// Reduction is empty, or the degraded reason serving here implies (fallback_model): a place
	// with a reduction serves something other than what was asked, and the outcome must say so.
	Reduction outcome.Reason `json:"reduction,omitempty"`
}

// String names the place for messages and logs.
func (p Place) String() string {
	s := string(p.Kind) + " " + p.Region + "/" + p.Pool
	if p.Kind == KindProvider {
		s = string(p.Kind) + " " + p.Provider + " (" + p.Region + ")"
	}
	if p.Reduction != "" {
		s += " model " + p.Model + " [" + string(p.Reduction) + "]"
	}
	return s
}

// ServedBy is the part of ARuntime-Served-By the place determines. The router adds what only it
// knows: the deployment, and for a pool the worker it picked and its own provider name.
func (p Place) ServedBy() outcome.ServedBy {
	return outcome.ServedBy{Region: p.Region, Pool: p.Pool, Provider: p.Provider}
}

// validate reports why p cannot be judged, or nil.
func (p Place) validate() error {
	switch {
	case p.Kind != KindPool && p.Kind != KindProvider:
		return fmt.Errorf("%w: %s: kind %q is neither %q nor %q", ErrInvalidChain, p, p.Kind, KindPool, KindProvider)
	case p.Region == "":
		return fmt.Errorf("%w: %s: no region, so no data policy can allow it", ErrInvalidChain, p)
	case p.Kind == KindPool && p.Pool == "", p.Kind == KindProvider && p.Provider == "":
		return fmt.Errorf("%w: %s: unnamed", ErrInvalidChain, p)
	case p.Model == "":
		return fmt.Errorf("%w: %s: no model", ErrInvalidChain, p)
	case p.Reduction != "" && p.Reduction.Class() != outcome.Degraded:
		return fmt.Errorf("%w: %s: reduction %q is not a degraded reason", ErrInvalidChain, p, p.Reduction)
	}
	return nil
}

// Policy is the part of a tenant's data policy that bounds where its data may go. It is the
// tenant's own and nothing widens it: an empty AllowedRegions allows no region, never every one.
type Policy struct {
	AllowedRegions []string
	HostedFallback bool
}

// SkipReason says why Plan passed over a place.
type SkipReason string

// The reasons a place is skipped, in the order Plan checks them: policy before health, so that a
// forbidden place is reported as forbidden whether or not it is up.
const (
	SkipRegionForbidden SkipReason = "region_forbidden"
	SkipHostedForbidden SkipReason = "hosted_forbidden"
	SkipUnhealthy       SkipReason = "unhealthy"
)

// Skip is one place Plan passed over and why.
type Skip struct {
	Place Place      `json:"place"`
	Why   SkipReason `json:"why"`
	// Healthy tells a forbidden place that was up from one that was down, which is what decides
	// between policy_forbids_fallback and no_healthy_worker.
	Healthy bool `json:"healthy"`
}

// Decision is where to serve and what outcome that implies.
type Decision struct {
	Place Place `json:"place"`
	// Index is Place's position in the chain.
	Index  int            `json:"index"`
	Class  outcome.Class  `json:"class"`
	Reason outcome.Reason `json:"reason"`
	// Skipped are the places before Place, or on an error every place, with why each was passed
	// over: the evidence of why a request moved, or why it was refused.
	Skipped []Skip `json:"skipped,omitempty"`
}
