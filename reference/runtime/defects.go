package runtime

import (
	"net/http"

	"google.golang.org/grpc"

	"github.com/aruntime/arcert/reference/router"
)

// Defects are deliberate bugs, each a few lines a real runtime could ship, that the harness's
// negative controls (fixtures/negative) switch on to show that certification catches each. They
// live in one struct so that the conformant runtime is plainly its zero value, and so that no
// defect hides among the options an operator sets: nothing outside fixtures/negative sets them.
type Defects struct {
	// WrapHTTP wraps the router's HTTP handler (a careless gateway in front of it).
	WrapHTTP func(http.Handler) http.Handler
	// WorkerSalt replaces the workers' prefix-cache salt policy.
	WorkerSalt func(model, tenant, clientSalt string) []byte
	// LossyEvidence drops evidence the service cannot take now instead of spooling it.
	LossyEvidence bool
	// BatchAckFirst acknowledges batch jobs before they run, so one whose result cannot be
	// stored is lost.
	BatchAckFirst bool

	Tenancy    TenancyDefects
	Identity   IdentityDefects
	Outcome    OutcomeDefects
	Admission  AdmissionDefects
	Resilience ResilienceDefects
	Operations OperationsDefects
}

// The families below are filled by the negative controls of each family; keep each family's
// defects under its heading.

// TenancyDefects break tenant binding, cache isolation and label propagation. (The prefix-cache
// salt policy is Defects.WorkerSalt.)
type TenancyDefects struct {
	// Labels are the router's label bugs: a streamed request's evidence without its trace id,
	// gRPC calls bound to their tenant alone.
	Labels router.LabelDefects
	// BatchDropsLabels runs each queued job as its tenant alone: the application and user bound
	// when the batch was submitted are lost on the way through the queue.
	BatchDropsLabels bool
	// BatchStickyPrincipal runs every queued job as whoever submitted the first job the runner
	// ran, as a runner that opens its upstream session once would.
	BatchStickyPrincipal bool
	// GRPCGateway intercepts every gRPC stream before the router's service (a careless gateway
	// in front of it, as WrapHTTP is for HTTP).
	GRPCGateway grpc.StreamServerInterceptor
}

// IdentityDefects break the separation of operator, workload and tenant credentials.
type IdentityDefects struct{}

// OutcomeDefects break what a client is told about how its request ended.
type OutcomeDefects struct{}

// AdmissionDefects break admission, traffic classes, quotas and declared versions.
type AdmissionDefects struct{}

// ResilienceDefects break rules only a fault reveals.
type ResilienceDefects struct{}

// OperationsDefects break rollout, artifacts, evidence, batch jobs and devices.
type OperationsDefects struct{}
