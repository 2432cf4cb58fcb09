package router

import (
	"context"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/fallback"
	"github.com/aruntime/arcert/reference/routing"
)

// hedgeForbidden is the HedgeBeforePolicy defect: a request its tenant's policy keeps out of every
// healthy place (the primary region down, the fallback forbidden) is still run, its answer thrown
// away, on the first healthy pool of its model's chain in any region, so that a retry "finds the
// standby warm". The caller is refused with the policy's reason all the same; the prompt went
// where the policy forbids.
func (r *Router) hedgeForbidden(ctx context.Context, j job, refusal ending) {
	if !r.ops.HedgeBeforePolicy || refusal.reason != outcome.ReasonPolicyForbidsFallback {
		return
	}
	var anywhere fallback.Policy
	for _, w := range r.pool.Workers() {
		anywhere.AllowedRegions = append(anywhere.AllowedRegions, w.Region)
	}
	d, err := fallback.Plan(r.places.chains[j.c.Model.Name], anywhere, r.healthy)
	if err != nil || d.Place.Kind != fallback.KindPool {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), j.class.Deadline)
	defer cancel()
	_, _ = r.onPool(ctx, j, d, routing.AffinityKey(j.principal.Tenant, j.c.Prompt), &collector{})
}
