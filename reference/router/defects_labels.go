package router

import "github.com/aruntime/arcert/reference/identity"

// LabelDefects are deliberate bugs in how the router carries a request's labels (trace id,
// application, user) to its evidence. Only the harness's negative controls set them, through
// runtime.TenancyDefects; the zero value is the conformant router.
type LabelDefects struct {
	// StreamDropsTrace writes a streamed HTTP request's evidence without its trace id, as a
	// router whose streaming writer starts the response before the trace is attached would.
	StreamDropsTrace bool
	// GRPCDropsLabels binds gRPC calls to their tenant alone, so their evidence loses the
	// application and user of the credential.
	GRPCDropsLabels bool
	// QuotaFromUser charges a request to the tenant its body's user names, as a per-user
	// fairness key would, while evidence still names the caller.
	QuotaFromUser bool
}

// quotaTenant is the tenant admission charges j to.
func (d LabelDefects) quotaTenant(r *Router, j job) string {
	if d.QuotaFromUser {
		if _, ok := r.cfg.Tenant(j.c.ClientUser); ok {
			return j.c.ClientUser
		}
	}
	return j.principal.Tenant
}

// streamTrace is the trace id an HTTP request's evidence gets.
func (d LabelDefects) streamTrace(j job) string {
	if d.StreamDropsTrace && j.c.Stream {
		return ""
	}
	return j.traceID
}

// grpcPrincipal is the principal a gRPC call runs as.
func (d LabelDefects) grpcPrincipal(p identity.Principal) identity.Principal {
	if d.GRPCDropsLabels {
		return identity.Principal{Role: p.Role, Tenant: p.Tenant}
	}
	return p
}
