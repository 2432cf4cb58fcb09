package router

import (
	"context"

	"google.golang.org/grpc/peer"

	"github.com/aruntime/arcert/reference/identity"
)

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
	// GRPCQuotaByConnection charges every gRPC call on a connection to the tenant whose call
	// came first on it, as a door that caches its admission key per HTTP/2 connection does:
	// tenants a client or gateway multiplexes over one connection share one tenant's quota,
	// queue share and slots, while evidence still names each caller.
	GRPCQuotaByConnection bool
}

// connectionTenant is the GRPCQuotaByConnection defect's admission key: the tenant of the first
// call on the connection ctx's call came over.
func (r *Router) connectionTenant(ctx context.Context, tenant string) string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return tenant
	}
	first, _ := r.connTenants.LoadOrStore(p.Addr.String(), tenant)
	return first.(string)
}

// quotaTenant is the tenant admission charges j to.
func (d LabelDefects) quotaTenant(r *Router, j job) string {
	if j.connTenant != "" {
		return j.connTenant
	}
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
