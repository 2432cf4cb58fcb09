package router

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/outcomehttp"
)

// newID returns prefix followed by 16 random bytes in hex: unguessable, so one tenant cannot
// enumerate another's request ids at the evidence endpoint.
func newID(prefix string) string { return outcomehttp.NewID(prefix) }

// evidenceTimeout bounds one evidence write, so a slow evidence service delays a response's
// bookkeeping, never the response itself, by more than this.
const evidenceTimeout = 2 * time.Second

// record writes the one evidence record of a request and counts it in the metrics. It runs after
// the response went out. p may be the zero Principal for a request refused before identity.
func (r *Router) record(j job, end ending, started time.Time) {
	r.writeEvidence(j, r.account(j, end, started))
}

// account counts a finished request in the metrics and returns its evidence record, for
// writeEvidence: the metrics are counted at once, so a scrape after the response sees them.
func (r *Router) account(j job, end ending, started time.Time) discovery.Record {
	elapsed := time.Since(started)
	tenant := j.principal.Tenant
	r.metrics.observe(tenant, j.class.Name, end, elapsed, exemplar(j))
	u := r.defects.Billing.evidence(j, end)
	rec := discovery.Record{
		RequestID:      j.id,
		Time:           started.UTC(),
		Tenant:         tenant,
		Application:    j.principal.Application,
		User:           j.principal.User,
		ClientUser:     j.c.ClientUser,
		TrafficClass:   j.class.Name,
		Model:          servedModel(j, end),
		Deployment:     r.cfg.Runtime.Deployment,
		ArtifactDigest: end.artifact,
		Attestation:    end.attestation,
		PolicyVersion:  r.cfg.Runtime.PolicyVersion,
		ServedBy:       end.servedBy,
		Outcome:        end.class,
		Reason:         end.reason,
		Tokens: discovery.Tokens{
			Prompt:     int(u.Prompt),
			Completion: int(u.Completion),
			Cached:     int(u.Cached),
		},
		CacheTier:    end.tier,
		CostMicroUSD: cost(j, u),
		CostCenter:   r.costCenter(j.principal),
		TraceID:      j.traceID,
		DurationMS:   float64(elapsed.Microseconds()) / 1000,
		ToolCalls:    end.tools,
	}
	if !end.class.Served() {
		rec.ServedBy = outcome.ServedBy{}
	}
	return rec
}

// writeEvidence appends rec, j's evidence record, bounded by evidenceTimeout.
func (r *Router) writeEvidence(j job, rec discovery.Record) {
	ctx := context.Background() // the response is out: the caller's cancellation no longer applies
	if j.span != nil {
		ctx = trace.ContextWithSpan(ctx, j.span) // but the evidence write belongs to its trace
	}
	ctx, cancel := context.WithTimeout(ctx, evidenceTimeout)
	defer cancel()
	if _, err := r.evidence.Append(ctx, rec); err != nil {
		r.metrics.evidenceErrors.Inc()
		r.log.Error("evidence not written", "request_id", j.id, "err", err)
	}
	r.log.Debug("request", "request_id", j.id, "tenant", rec.Tenant, "outcome", rec.Outcome, "reason", rec.Reason, "ms", rec.DurationMS)
}

// servedModel is the model evidence names: the one that served, so that it and the artifact
// digest beside it belong together, else the one asked for.
func servedModel(j job, end ending) string {
	if end.model != "" && end.class.Served() {
		return end.model
	}
	return j.c.Model.Name
}

// cost attributes what a request consumed at its model's declared prices, in micro-USD.
func cost(j job, u tokenUsage) int64 {
	m := j.c.Model
	return (u.Prompt*m.PromptPricePer1K + u.Completion*m.CompletionPricePer1K) / 1000
}

// costCenter is where a tenant's spending is billed; empty for non-tenants.
func (r *Router) costCenter(p identity.Principal) string {
	if p.Role != identity.RoleTenant {
		return ""
	}
	if t, ok := r.cfg.Tenant(p.Tenant); ok {
		return t.CostCenter
	}
	return ""
}
