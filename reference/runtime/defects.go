package runtime

import "net/http"

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

// TenancyDefects break tenant binding, cache isolation and label propagation.
type TenancyDefects struct{}

// IdentityDefects break the separation of operator, workload and tenant credentials.
type IdentityDefects struct{}

// OutcomeDefects break what a client is told about how its request ended.
type OutcomeDefects struct{}

// AdmissionDefects break admission, traffic classes, quotas and declared versions.
type AdmissionDefects struct{}

// ResilienceDefects break rules only a fault reveals. The gRPC ones live in an interceptor in
// front of the router's gRPC service (grpcdefects.go), as a careless gateway would.
type ResilienceDefects struct {
	// GRPCOutcomeFromStatus writes the arcert-outcome trailer from the call's status code, so
	// every call that ends OK says completed, rerouted work included.
	GRPCOutcomeFromStatus bool
	// GRPCEndsOKAfterOutput closes a gRPC call that fails after it sent output with status OK and
	// without its outcome trailers, as if a stream that has begun could no longer fail.
	GRPCEndsOKAfterOutput bool
	// GRPCUnavailableAsInternal answers every UNAVAILABLE gRPC call (a dependency, region or
	// worker outage) as INTERNAL with failed/internal.
	GRPCUnavailableAsInternal bool
	// GRPCStartsAtPick sends a gRPC call's headers as soon as a worker answers it, and counts the
	// call as started, so a lost worker's calls without output are not moved elsewhere.
	GRPCStartsAtPick bool
}

// OperationsDefects break rollout, artifacts, evidence, batch jobs and devices.
type OperationsDefects struct{}
