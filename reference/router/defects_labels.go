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
