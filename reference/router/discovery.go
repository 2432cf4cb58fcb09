package router

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/evidence"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/routing"
)

// implementation names this runtime at /v1/aruntime/features.
const implementation = "aruntime"

// versionsTimeout bounds asking every worker for its versions.
const versionsTimeout = 2 * time.Second

// maxEvidencePage bounds one page of the evidence listing.
const maxEvidencePage = 1000

// caller authenticates a discovery request as one of roles, answering the refusal itself.
func (r *Router) caller(w http.ResponseWriter, req *http.Request, roles ...identity.Role) (identity.Principal, bool) {
	p, end := r.authenticate(req.Header.Get("Authorization"), roles...)
	if end.reason != "" {
		writeRefusal(w, end, "")
		return p, false
	}
	return p, true
}

func (r *Router) listModels(w http.ResponseWriter, req *http.Request) {
	if _, ok := r.caller(w, req, identity.RoleTenant, identity.RoleOperator); !ok {
		return
	}
	list := openai.ModelList{Object: "list", Data: []openai.Model{}}
	for _, m := range r.cfg.Models {
		list.Data = append(list.Data, openai.Model{ID: m.Name, Object: "model", OwnedBy: r.cfg.Runtime.Deployment})
	}
	writeOK(w, list)
}

// features is public: a harness reads it before it holds any credential.
func (r *Router) features(w http.ResponseWriter, _ *http.Request) {
	writeOK(w, discovery.Features{Implementation: implementation, Version: r.cfg.Runtime.Version, Features: r.cfg.Features})
}

func (r *Router) versions(w http.ResponseWriter, req *http.Request) {
	p, ok := r.caller(w, req, identity.RoleTenant, identity.RoleOperator)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), versionsTimeout)
	defer cancel()
	out := discovery.Versions{RouterVersion: r.cfg.Runtime.Version, PolicyVersion: r.cfg.Runtime.PolicyVersion, Workers: []discovery.WorkerVersions{}}
	for _, wv := range r.pool.Versions(ctx) {
		inRotation := wv.Worker.Healthy()
		v := discovery.WorkerVersions{Worker: wv.Worker.ID, Region: wv.Worker.Region, Pool: wv.Worker.Pool, Healthy: wv.Err == nil && inRotation}
		v.HealthReason = healthReason(wv, inRotation, p.Role == identity.RoleOperator)
		if resp := wv.Resp; resp != nil {
			v.RuntimeVersion, v.PolicyVersion, v.RoutingVersion = resp.GetRuntimeVersion(), resp.GetPolicyVersion(), resp.GetRoutingVersion()
			v.Instance = resp.GetInstance()
			v.ResidentModels, v.Role = resp.GetResidentModels(), resp.GetRole()
			v.L1CapacityBlocks = resp.GetL1CapacityBlocks()
			for _, a := range resp.GetArtifacts() {
				v.Artifacts = append(v.Artifacts, discovery.Artifact{Model: a.GetModel(), Digest: a.GetDigest()})
			}
			for _, d := range resp.GetDevices() {
				v.Devices = append(v.Devices, discovery.Device{UUID: d.GetUuid(), Name: d.GetName(),
					MemoryTotalBytes: d.GetMemoryTotalBytes(), MemoryUsedBytes: d.GetMemoryUsedBytes(), Simulated: d.GetSimulated(),
					MemoryFreeBytes: d.GetMemoryFreeBytes(), Pressure: d.GetPressure(), Fault: d.GetFault()})
			}
		}
		if r.pool.Attests() {
			v.Attestation = workerAttestation(wv.Worker)
		}
		out.Workers = append(out.Workers, v)
	}
	writeOK(w, out)
}

// quotas shows the caller its own quotas only; it takes no tenant parameter to ask for another's.
// Each Limit is declared; Remaining, Burst and ResetSeconds are this router's (see
// discovery.Quota), so that under router.limits split no figure mixes the two.
func (r *Router) quotas(w http.ResponseWriter, req *http.Request) {
	p, ok := r.caller(w, req, identity.RoleTenant)
	if !ok {
		return
	}
	q, _ := r.adm.Quota(p.Tenant)
	t, _ := r.cfg.Tenant(p.Tenant)
	reqs := discovery.Quota{Limit: float64(q.RequestsPerMinute), Remaining: q.RequestsRemaining,
		Burst: float64(q.RequestsBurst), ResetSeconds: q.RequestsFullIn.Seconds()}
	toks := discovery.Quota{Limit: float64(q.TokensPerMinute), Remaining: q.TokensRemaining,
		Burst: float64(q.TokensBurst), ResetSeconds: q.TokensFullIn.Seconds()}
	writeOK(w, discovery.Quotas{
		Tenant:            p.Tenant,
		RequestsPerMinute: reqs,
		TokensPerMinute:   toks,
		// Remaining is of this router's part, as for the buckets: its in-flight count is its own.
		MaxConcurrency: discovery.Quota{Limit: float64(q.MaxConcurrency), Remaining: float64(max(0, q.MaxConcurrencyHere-q.InFlight))},
		TrafficClasses: t.TrafficClasses,
	})
}

// evidenceList answers ?request_id= for the record's own tenant or an operator; an operator may
// also page through everything with ?since=SEQ&limit=N. A tenant asking for another tenant's
// request gets an empty list, so ids cannot be probed.
func (r *Router) evidenceList(w http.ResponseWriter, req *http.Request) {
	p, ok := r.caller(w, req, identity.RoleTenant, identity.RoleOperator)
	if !ok {
		return
	}
	// A record is written after its response went out: wait for those of responses already
	// complete, so that a caller listing its evidence after its response finds it.
	ctx, cancel := context.WithTimeout(req.Context(), evidenceTimeout)
	_ = r.pending.wait(ctx) // past the bound, list what is there
	cancel()
	q := req.URL.Query()
	id := q.Get("request_id")
	var recs []discovery.Record
	var err error
	switch {
	case id != "":
		recs, err = r.evidence.ByRequestID(req.Context(), id)
	case p.Role == identity.RoleOperator:
		since, _ := strconv.ParseUint(q.Get("since"), 10, 64)
		limit, convErr := strconv.Atoi(q.Get("limit"))
		if convErr != nil || limit <= 0 || limit > maxEvidencePage {
			limit = maxEvidencePage
		}
		recs, err = r.evidence.Since(req.Context(), since, limit)
	default:
		// Listing everyone's evidence is the operator's; a tenant asks by request id.
		writeRefusal(w, refused(outcome.ReasonForbidden, "only the operator may list evidence; a tenant asks with ?request_id="), "request_id")
		return
	}
	if errors.Is(err, evidence.ErrNotFound) {
		err = nil // nothing recorded under that id (yet): an empty list, not a failure
	}
	if err != nil {
		writeRefusal(w, refused(outcome.ReasonDependencyUnavailable, "evidence: "+err.Error()), "")
		return
	}
	out := discovery.EvidenceList{Records: []discovery.Record{}}
	if t, ok := r.evidence.(truncating); ok {
		out.TruncatedBefore = t.TruncatedBefore()
	}
	for _, rec := range recs {
		if p.Role == identity.RoleOperator || rec.Tenant == p.Tenant {
			out.Records = append(out.Records, rec)
		}
	}
	writeOK(w, out)
}

// healthReason says why wv's worker is listed unhealthy, "" when it is not: the versions call's
// own failure and why the router has the worker out of rotation, either or both. A tenant reads
// routing.Why's few words; an operator also the errors themselves, addresses included.
func healthReason(wv routing.WorkerVersion, inRotation, operator bool) string {
	say := func(what string, err error) string {
		if operator {
			return what + routing.Why(err) + " (" + err.Error() + ")"
		}
		return what + routing.Why(err)
	}
	var why []string
	if wv.Err != nil {
		why = append(why, say("versions: ", wv.Err))
	}
	switch err := wv.Worker.Err(); {
	case inRotation:
	case err != nil:
		why = append(why, say("out of rotation: ", err))
	default:
		why = append(why, "out of rotation: no health poll answered yet")
	}
	return strings.Join(why, "; ")
}
