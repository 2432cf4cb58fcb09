package runtime

import (
	"net/http"

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

// TenancyDefects break tenant binding, cache isolation and label propagation.
type TenancyDefects struct{}

// IdentityDefects break the separation of operator, workload and tenant credentials.
type IdentityDefects struct{}

// OutcomeDefects break what a client is told about how its request ended.
type OutcomeDefects struct{}

// AdmissionDefects break admission, traffic classes, quotas and declared versions.
type AdmissionDefects struct{}

// ResilienceDefects break rules only a fault reveals.
type ResilienceDefects struct{}

// OperationsDefects break rollout, artifacts, evidence, batch jobs and devices.
type OperationsDefects struct {
	// Router holds the router's deliberate bugs: evidence naming a stale pin, device pressure
	// sending tenants to a hosted provider, device-fault work never moved to another worker.
	Router router.OperationsDefects
	// GroupChainLinks links every record of one inbox message to the chain's tail before the
	// message, instead of each to the record before it.
	GroupChainLinks bool
	// SkipPulledDigests takes a digest a worker pulled for an earlier rollout as applied again
	// without switching the worker to it.
	SkipPulledDigests bool
	// RevertToConfiguredPin makes a worker that refuses an artifact fall back to its
	// configuration's pin instead of keeping the version it served.
	RevertToConfiguredPin bool
	// ReplaceWithoutApplierOffRegion brings a replaced worker outside the primary region back
	// without following the control plane, on its configuration's pin.
	ReplaceWithoutApplierOffRegion bool
	// BatchResultNamesJob records a batch job's result under the job's first request id even
	// when a later delivery served it.
	BatchResultNamesJob bool
	// BatchIdempotencyGlobal scopes batch idempotency keys to the runtime instead of the tenant.
	BatchIdempotencyGlobal bool
}
