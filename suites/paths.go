package suites

// The wires a request can take, as the catalogue names them in a requirement's paths. Each is its
// own code path in a runtime (a JSON body, an SSE stream, gRPC trailers), so a bug in one hides
// from a spec that sends over another. arcert.v1.Inference has one call, server-streaming: viaGRPC
// is a short call read as one answer (what a unary client does), viaGRPCStream a call of many
// messages.
const (
	viaHTTP       = "http"
	viaHTTPStream = "http-stream"
	viaGRPC       = "grpc"
	viaGRPCStream = "grpc-stream"
	// viaCompletions is the legacy POST /v1/completions (a prompt, not messages): a gateway
	// route of its own in many deployments.
	viaCompletions = "http-completions"
)
