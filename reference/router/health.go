package router

import (
	"fmt"
	"net/http"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
)

// notReady is why the router cannot take work now, or the zero ending when it can: draining for
// shutdown, no capacity anywhere, or (router.limits: split) a share of the capacity that rounds
// to no slot, which is not a worker's fault and says so. /healthz and the gRPC health service
// both answer from it, so an HTTP probe and a gRPC probe never disagree.
func (r *Router) notReady() ending {
	snap := r.adm.Snapshot()
	switch {
	case snap.Draining:
		return refused(outcome.ReasonDraining, "the router is draining for shutdown")
	case snap.Capacity == 0:
		if share := r.adm.ShareStatus(); share.DeclaredCapacity > 0 {
			return refused(outcome.ReasonCapacity, fmt.Sprintf("this router's share of the capacity is 0 of %d slots (router %d of %d)",
				share.DeclaredCapacity, share.Index+1, share.Of))
		}
		return refused(outcome.ReasonNoHealthyWorker, "no healthy worker")
	}
	return ending{}
}

// healthz reports whether the router can take work, for load balancers in front of it.
func (r *Router) healthz(w http.ResponseWriter, _ *http.Request) {
	if end := r.notReady(); end.reason != "" {
		writeRefusal(w, end, "")
		return
	}
	snap, share := r.adm.Snapshot(), r.adm.ShareStatus()
	// capacity is this router's part of declared_capacity when the routers split the limits.
	writeOK(w, map[string]int{"capacity": snap.Capacity, "in_flight": snap.InFlight,
		"declared_capacity": share.DeclaredCapacity, "routers": share.Of})
}

// syncHealth publishes the router's readiness on the gRPC health service, for the whole server
// ("") and for the Inference service by name: Kubernetes gRPC probes and Envoy ask for either.
// It runs whenever capacity changes and when draining starts.
func (r *Router) syncHealth() {
	st := healthpb.HealthCheckResponse_SERVING
	if r.notReady().reason != "" {
		st = healthpb.HealthCheckResponse_NOT_SERVING
	}
	r.health.SetServingStatus("", st)
	r.health.SetServingStatus(arcertv1.Inference_ServiceDesc.ServiceName, st)
}

// newHealth is the gRPC health service of a router that has no capacity yet.
func newHealth() *health.Server {
	h := health.NewServer()
	h.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	h.SetServingStatus(arcertv1.Inference_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	return h
}
