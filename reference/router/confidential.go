package router

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/aruntime/arcert/api/discovery"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/fallback"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/routing"
)

// ConfidentialDefects are the router's bugs of confidential compute.
type ConfidentialDefects struct {
	// FallbackIgnoresAttestation keeps a confidential tenant on attested workers while one is up,
	// but once none is, plans it like any other tenant: failover moves it to unattested capacity.
	FallbackIgnoresAttestation bool
	// PressureIgnoresAttestation lets device pressure on the attested workers of the chosen pool
	// send a confidential tenant to a relieved worker of that pool, attested or not.
	PressureIgnoresAttestation bool
	// PrefillAnywhere prefills a confidential tenant's long prompts on the (unattested) prefill
	// workers like anyone else's, though it is served on an attested worker.
	PrefillAnywhere bool
	// BlocksDemoted does not mark a confidential tenant's calls as such to the worker, so the
	// attested worker demotes its evicted KV blocks to the shared, unattested cache tier (and
	// promotes them back) like everyone's.
	BlocksDemoted bool
}

// planConfidential is plan for a tenant whose policy requires confidential compute: only a pool
// with a healthy worker whose attestation verifies and is fresh counts as up, and a hosted
// provider, which attests nothing, is forbidden whatever the tenant's hosted_fallback says. When
// no attested place is left while unattested ones are up, the tenant is refused with
// policy_forbids_fallback: moving it would send its data where nobody attested the device.
func (r *Router) planConfidential(j job) (fallback.Decision, ending) {
	chain, policy := r.places.chains[j.c.Model.Name], r.places.policies[j.principal.Tenant]
	policy.HostedFallback = false
	if d, err := fallback.Plan(chain, policy, r.attestedRelieved); err == nil {
		return d, ending{}
	}
	d, err := fallback.Plan(chain, policy, r.attestedUp)
	if err == nil || errors.Is(err, fallback.ErrPolicyForbidsRegion) {
		return d, r.planEnding(j, err)
	}
	if r.defects.Confidential.FallbackIgnoresAttestation {
		return r.planAny(j)
	}
	for _, p := range chain {
		if r.healthy(p) {
			return d, refused(outcome.ReasonPolicyForbidsFallback,
				"tenant "+j.principal.Tenant+" requires confidential compute and no attested worker is left; not attested: "+r.unattested(j.c.Model.Name))
		}
	}
	return d, r.planEnding(j, err)
}

// attestedOnly reports whether j may run only on attested workers of the place d chose.
func (r *Router) attestedOnly(j job, d fallback.Decision) bool {
	if !r.places.confidential[j.principal.Tenant] {
		return false
	}
	if r.defects.Confidential.PressureIgnoresAttestation && !r.attestedRelieved(d.Place) {
		return false
	}
	return !r.defects.Confidential.FallbackIgnoresAttestation || r.attestedUp(d.Place)
}

// attestedUp is Plan's view of a place for a confidential tenant: a pool with a healthy,
// attested worker serving the model; never a provider.
func (r *Router) attestedUp(p fallback.Place) bool {
	return p.Kind == fallback.KindPool && r.pool.ServesWhere(p.Model, func(w *routing.Worker) bool {
		return w.Region == p.Region && w.Pool == p.Pool && w.Attested()
	})
}

// attestedRelieved is attestedUp, except that attested workers under device pressure count as
// down, so a relieved attested worker elsewhere is preferred; with none, the plan falls back to
// attestedUp and the pressured worker sheds with device_pressure.
func (r *Router) attestedRelieved(p fallback.Place) bool {
	return p.Kind == fallback.KindPool && r.pool.ServesWhere(p.Model, func(w *routing.Worker) bool {
		return w.Region == p.Region && w.Pool == p.Pool && w.Attested() && !w.UnderPressure()
	})
}

// unattested says, for a refusal's message, why each worker serving model is not attested now.
func (r *Router) unattested(model string) string {
	var parts []string
	for _, w := range r.pool.Workers() {
		if !w.Serving() || !slices.Contains(w.Models, model) {
			continue
		}
		_, _, err := w.Attestation()
		switch {
		case err != nil:
			parts = append(parts, w.ID+" ("+err.Error()+")")
		case !w.Healthy():
			parts = append(parts, w.ID+" (unhealthy)")
		}
	}
	return strings.Join(parts, "; ")
}

// workerAttestation is w's attestation for the versions listing.
func workerAttestation(w *routing.Worker) *discovery.Attestation {
	v, raw, err := w.Attestation()
	a := &discovery.Attestation{Presented: raw, Attested: err == nil, Worker: w.ID, Digest: v.Digest}
	if err != nil {
		a.Error = err.Error()
	}
	return a
}

// attestationByDigest serves GET /v1/aruntime/attestations/{digest}: the attestation the router
// verified under that digest, so an evidence record's attestation can be checked by its reader.
func (r *Router) attestationByDigest(w http.ResponseWriter, req *http.Request) {
	if _, ok := r.caller(w, req, identity.RoleTenant, identity.RoleOperator); !ok {
		return
	}
	worker, raw, ok := r.pool.LookupAttestation(req.PathValue("digest"))
	if !ok {
		writeRefusal(w, refused(outcome.ReasonNotFound, "no attestation verified under "+req.PathValue("digest")+" is kept"), "")
		return
	}
	writeOK(w, discovery.Attestation{Digest: req.PathValue("digest"), Presented: raw, Attested: true, Worker: worker})
}
