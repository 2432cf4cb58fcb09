package telemetry

import (
	"slices"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc/stats"
)

// GRPCClient is the stats handler that traces a client's calls of methods (full names, such as
// "/arcert.v1.Worker/Generate") and carries their trace context in the call's metadata. Other
// calls, such as health polls, are neither traced nor propagated: they belong to no request.
func GRPCClient(methods ...string) stats.Handler {
	return otelgrpc.NewClientHandler(otelgrpc.WithPropagators(Propagator), otelgrpc.WithFilter(only(methods)))
}

// GRPCServer is GRPCClient's server side: it continues the caller's trace for calls of methods.
func GRPCServer(methods ...string) stats.Handler {
	return otelgrpc.NewServerHandler(otelgrpc.WithPropagators(Propagator), otelgrpc.WithFilter(only(methods)))
}

func only(methods []string) otelgrpc.Filter {
	return func(info *stats.RPCTagInfo) bool { return slices.Contains(methods, info.FullMethodName) }
}
