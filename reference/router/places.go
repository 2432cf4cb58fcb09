package router

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/fallback"
	"github.com/aruntime/arcert/reference/provider"
	"github.com/aruntime/arcert/reference/routing"
)

// places is everything the router needs to decide where a request may go: the fallback chain of
// each model, each tenant's data policy, and the hosted providers. All of it is derived from the
// configuration once, at New, so a request only plans over it.
type places struct {
	chains    map[string][]fallback.Place
	policies  map[string]fallback.Policy
	providers map[string]*hostedProvider
	// confidential are the tenants whose data policy requires confidential compute.
	confidential map[string]bool
}

// newPlaces derives the chains, policies and provider clients of cfg. A provider whose base_url
// is still config.EmbeddedBaseURL has nobody to talk to: it is left out of every chain, with a
// warning, so the runtime serves without hosted fallback rather than failing to start. hc is the
// providers' HTTP client (nil: a default one).
func newPlaces(cfg *config.Config, log *slog.Logger, hc *http.Client) *places {
	ps := &places{chains: map[string][]fallback.Place{}, policies: map[string]fallback.Policy{}, providers: map[string]*hostedProvider{}, confidential: map[string]bool{}}
	topo := fallback.Topology{PrimaryRegion: cfg.Runtime.Region, FallbackModels: map[string]string{}}
	for _, w := range cfg.Workers {
		if w.Role == config.RolePrefill {
			continue // prefill workers only prefill for others: no place of their own
		}
		topo.Pools = append(topo.Pools, fallback.PoolSpec{Region: w.Region, Pool: w.Pool, Models: w.Models})
	}
	for _, p := range cfg.Providers {
		if p.BaseURL == config.EmbeddedBaseURL {
			log.Warn("hosted provider left out: its base_url is embedded and nothing started it", "provider", p.Name)
			continue
		}
		ps.providers[p.Name] = &hostedProvider{spec: p, client: provider.New(p.BaseURL, p.Key, hc)}
		topo.Providers = append(topo.Providers, fallback.ProviderSpec{Name: p.Name, Region: p.Region, Models: p.Models})
	}
	for _, m := range cfg.Models {
		if m.Fallback != "" {
			topo.FallbackModels[m.Name] = m.Fallback
		}
	}
	for _, m := range cfg.Models {
		ps.chains[m.Name] = topo.Chain(m.Name)
	}
	for _, t := range cfg.Tenants {
		ps.policies[t.Name] = fallback.Policy{AllowedRegions: t.DataPolicy.AllowedRegions, HostedFallback: t.DataPolicy.HostedFallback}
		ps.confidential[t.Name] = t.DataPolicy.ConfidentialCompute
	}
	return ps
}

// plan decides where j may be served now, or the refusal that says why it may not. A tenant
// missing from the policies gets the zero Policy, which allows no region: nothing widens a policy.
//
// Device pressure is planned around first: a pool whose serving workers are all under pressure
// would only shed, so the tenant goes to another pool or region its policy allows. Only when no
// allowed pool is relieved is the plan made on health alone, so the request reaches a pressured
// worker and is shed with device_pressure, the honest answer; a hosted provider is never chosen
// for pressure alone, since pressure passes in seconds and hosting moves the tenant's data.
func (r *Router) plan(j job) (fallback.Decision, ending) {
	if r.places.confidential[j.principal.Tenant] {
		return r.planConfidential(j)
	}
	return r.planAny(j)
}

// planAny is plan for a tenant that does not require confidential compute.
func (r *Router) planAny(j job) (fallback.Decision, ending) {
	chain, policy := r.places.chains[j.c.Model.Name], r.places.policies[j.principal.Tenant]
	if d, err := fallback.Plan(chain, policy, r.relieved); err == nil && (d.Place.Kind == fallback.KindPool || r.ops.PressureToProvider) {
		return d, ending{}
	}
	d, err := fallback.Plan(chain, policy, r.healthy)
	return d, r.planEnding(j, err)
}

// planEnding is the refusal a failed plan implies, or the zero ending when err is nil.
func (r *Router) planEnding(j job, err error) ending {
	switch {
	case err == nil:
		return ending{}
	case errors.Is(err, fallback.ErrPolicyForbidsRegion):
		return refused(outcome.ReasonPolicyForbidsRegion, err.Error())
	case errors.Is(err, fallback.ErrPolicyForbidsFallback):
		return refused(outcome.ReasonPolicyForbidsFallback, err.Error())
	case errors.Is(err, fallback.ErrNoPlace):
		return refused(outcome.ReasonNoHealthyWorker, "no healthy place serves model "+j.c.Model.Name+": "+err.Error())
	default:
		r.log.Error("fallback chain cannot be planned", "model", j.c.Model.Name, "err", err)
		return refused(outcome.ReasonInternal, "routing: "+err.Error())
	}
}

// healthy is Plan's view of a place: a pool is up while one of its workers serving the model is
// healthy; a provider while it has not failed within its cooldown.
func (r *Router) healthy(p fallback.Place) bool {
	switch p.Kind {
	case fallback.KindPool:
		return r.pool.ServesWhere(p.Model, func(w *routing.Worker) bool { return w.Region == p.Region && w.Pool == p.Pool })
	case fallback.KindProvider:
		h, ok := r.places.providers[p.Provider]
		return ok && h.up()
	}
	return false
}

// relieved is healthy, except that a pool whose healthy serving workers are all under device
// pressure counts as down.
func (r *Router) relieved(p fallback.Place) bool {
	if p.Kind != fallback.KindPool {
		return r.healthy(p)
	}
	return r.pool.ServesWhere(p.Model, func(w *routing.Worker) bool {
		return w.Region == p.Region && w.Pool == p.Pool && !w.UnderPressure()
	})
}

// syncCapacity sets admission's slots to what the router will really route to: the healthy
// workers of the primary region while any is up, because every tenant is served there first and
// a standby region's slots would only admit work that queues inside the primary's workers; else
// every healthy worker; else, with no worker left, the concurrency of the providers that are up,
// so hosted fallback is admitted rather than queued for slots no worker offers. It returns the
// capacity set.
func (r *Router) syncCapacity() int {
	r.capMu.Lock() // two callers must not store each other's stale answers out of order
	defer r.capMu.Unlock()
	primary, all := 0, 0
	for _, w := range r.pool.Workers() {
		// An autoscaled group's slots are its own engines', not admission's (config.Autoscale).
		if !w.Healthy() || !w.Serving() || w.Elastic {
			continue
		}
		n := int(w.Health().GetMaxBatch())
		all += n
		if w.Region == r.cfg.Runtime.Region {
			primary += n
		}
	}
	capacity := primary
	if capacity == 0 {
		capacity = all
	}
	if capacity == 0 {
		for _, h := range r.places.providers {
			if h.up() {
				capacity += h.spec.MaxConcurrency
			}
		}
	}
	r.adm.SetCapacity(capacity)
	r.syncHealth()
	return capacity
}
