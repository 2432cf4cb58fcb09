package router

import (
	"context"
	"net/http"

	"google.golang.org/grpc/status"
)

// Defects are deliberate bugs, each a few lines a real router could ship, switched on only by the
// harness's negative controls (through runtime.Defects) to show that certification catches each.
// The zero value is the conformant router.
type Defects struct {
	// ProviderHTTP is the HTTP client hosted providers are called with (a careless outbound proxy
	// wraps its transport); nil uses the default one.
	ProviderHTTP *http.Client
	// WorkerCall prepares the context of every generation call to a worker for the tenant it
	// serves (a careless router adding metadata of its caller's); nil leaves the context as it is.
	WorkerCall func(ctx context.Context, tenant string) context.Context
	// QueueWaitUncounted starts the deadline clock when a request leaves its class queue, not
	// when it arrives.
	QueueWaitUncounted bool
	// GRPCStartsAtPick sends a gRPC call's headers as soon as a worker answers it, and counts the
	// call as started, so a worker lost before the first token is not retried elsewhere.
	GRPCStartsAtPick bool
	// GRPCSpliceOnDeviceFault runs a gRPC stream cut by a device fault again on another worker
	// even after it sent output, appending the second worker's tokens to the first's on the same
	// call, whose trailers then name only the second.
	GRPCSpliceOnDeviceFault bool
	// GRPCSpliceOnWorkerLoss does the same to a gRPC stream whose worker is lost.
	GRPCSpliceOnWorkerLoss bool
	// GRPCCoalescedTokens, above 1, sends a gRPC stream's tokens that many to a message, as
	// runtimes that flush their output every few tokens do. Alone it breaks nothing; with a splice
	// defect, a client that counts messages sees fewer than max_tokens on a spliced stream.
	GRPCCoalescedTokens int
	// GRPCShedWithoutRetryInfo ends shed gRPC calls with their status and outcome trailers but
	// no google.rpc.RetryInfo (the gRPC door's error helper predates it): HTTP still says when
	// to retry, gRPC clients are not told.
	GRPCShedWithoutRetryInfo bool
	// SharedFIFOClassQueue makes each class queue one shared first-come FIFO with no
	// per-tenant share (admission.Config.SharedFIFO).
	SharedFIFOClassQueue bool
	// SlowReaderHoldsSlot ignores the classes' output write timeout, so a client that stops
	// reading holds its slot until the deadline.
	SlowReaderHoldsSlot bool
	// PrefillOnlyStreams sends a long prompt to a prefill worker only when it is streamed over
	// HTTP (where time to first token shows); plain HTTP and gRPC requests are prefilled on the
	// worker that decodes them.
	PrefillOnlyStreams bool
	// ChatBodyUnlimited reads chat completion bodies whole, whatever their size (the handler
	// added after the legacy one never got its body limit); legacy completions keep the limit.
	ChatBodyUnlimited bool
	// Operations are the router's bugs of rollout, evidence and devices.
	Operations OperationsDefects
	// Labels are the router's label bugs.
	Labels LabelDefects
	// Billing are the router's bugs of what evidence bills.
	Billing BillingDefects
	// Confidential are the router's bugs of confidential compute.
	Confidential ConfidentialDefects
	// Tools are the router's bugs of tool calling.
	Tools ToolDefects
}

// splicer is an emitter that may carry a splice defect: splices reports whether a stream that
// failed as failed did (its worker's status st) is run again on another worker even after it sent
// output.
type splicer interface {
	splices(failed ending, st *status.Status) bool
}
