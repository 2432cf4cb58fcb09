package runtime

import (
	"context"
	"net/http"
	"time"

	"google.golang.org/grpc"

	"github.com/aruntime/arcert/reference/control"
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
	// Billing are the router's bugs of what evidence bills for a request.
	Billing router.BillingDefects
	// Confidential are the bugs of attestation and of confidential tenants' fallback.
	Confidential ConfidentialDefects
	// Tools are the bugs of tool calling (tools.go).
	Tools ToolDefects
	// Autoscale are the autoscaler's bugs (autoscale.go).
	Autoscale AutoscaleDefects
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
type IdentityDefects struct {
	// GRPCStream intercepts every streaming call of the router's gRPC service (a careless gRPC
	// gateway in front of it), as WrapHTTP does for HTTP.
	GRPCStream grpc.StreamServerInterceptor
	// ProviderTransport wraps the transport hosted providers are called over (a careless
	// outbound proxy between the router and the provider).
	ProviderTransport func(http.RoundTripper) http.RoundTripper
	// WorkerCall prepares the context of the router's generation calls to workers for the tenant
	// served (a careless router adding metadata of its caller's).
	WorkerCall func(ctx context.Context, tenant string) context.Context
}

// providerHTTP is the HTTP client hosted providers are called with: nil (the router's default)
// unless ProviderTransport wraps the default transport.
func (d IdentityDefects) providerHTTP() *http.Client {
	if d.ProviderTransport == nil {
		return nil
	}
	return &http.Client{Transport: d.ProviderTransport(http.DefaultTransport)}
}

// OutcomeDefects break what a client is told about how its request ended.
type OutcomeDefects struct {
	// GRPCStream is a careless interceptor in front of the router's gRPC service (the gRPC
	// counterpart of WrapHTTP).
	GRPCStream grpc.StreamServerInterceptor
	// QueueWaitUncounted starts a request's deadline clock when it leaves its class queue, so a
	// request that queued long times out long after its deadline.
	QueueWaitUncounted bool
	// ChatBodyUnlimited reads chat completion bodies whole, whatever their size; legacy
	// completions keep the body limit.
	ChatBodyUnlimited bool
}

// AdmissionDefects break admission, traffic classes, quotas and declared versions.
type AdmissionDefects struct {
	// SharedFIFOClassQueue makes each class queue one first-come FIFO shared by every tenant,
	// with no per-tenant share of its bound, so one tenant's flood fills it and the others are
	// shed queue_full.
	SharedFIFOClassQueue bool
	// SlowReaderHoldsSlot drops the per-class output write timeout, so a client that stops
	// reading its stream holds its worker slot until the deadline.
	SlowReaderHoldsSlot bool
	// PrefillOnlyStreams moves a long prompt to a prefill worker only when it is streamed over
	// HTTP; plain HTTP and gRPC requests are prefilled where they are decoded.
	PrefillOnlyStreams bool
}

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
	// GRPCSpliceOnDeviceFault runs a gRPC stream cut by a device fault again on another worker
	// even after it sent output, on the same call: the client gets both workers' tokens, and
	// trailers naming only the second.
	GRPCSpliceOnDeviceFault bool
	// GRPCSpliceOnWorkerLoss does the same to a gRPC stream whose worker is lost.
	GRPCSpliceOnWorkerLoss bool
	// GRPCCoalescedTokens, above 1, sends a gRPC stream's tokens that many to a message (as
	// runtimes that flush every few tokens do): no bug alone, it hides a splice from a client
	// that counts messages.
	GRPCCoalescedTokens int
	// GRPCShedWithoutRetryInfo ends shed gRPC calls without google.rpc.RetryInfo: HTTP clients
	// are told when to retry, gRPC clients are not.
	GRPCShedWithoutRetryInfo bool
}

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
	// VerifyAfterSwitch makes a worker switch to a new artifact at once and verify it in the
	// background for this long, switching back when it is refused: the invalid artifact serves
	// in between (0: off).
	VerifyAfterSwitch time.Duration
	// ReplaceWithoutApplierOffRegion brings a replaced worker outside the primary region back
	// without following the control plane, on its configuration's pin.
	ReplaceWithoutApplierOffRegion bool
	// BatchResultNamesJob records a batch job's result under the job's first request id even
	// when a later delivery served it.
	BatchResultNamesJob bool
	// BatchIdempotencyGlobal scopes batch idempotency keys to the runtime instead of the tenant.
	BatchIdempotencyGlobal bool
	// BatchRequeueOnResume answers a repeat submission with the first batch but queues its jobs
	// again, and the runner runs each message it is given (batch.Runner.TrustQueue).
	BatchRequeueOnResume bool
	// Approvals break the approval of rollouts to protected pins.
	Approvals control.ApprovalDefects
}
