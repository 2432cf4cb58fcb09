package runtime

import "google.golang.org/grpc"

// grpcServerOptions are the router's gRPC server options the defects ask for: every family's
// careless interceptor, chained in family order; none for the conformant runtime.
func (d Defects) grpcServerOptions() []grpc.ServerOption {
	var streams []grpc.StreamServerInterceptor
	for _, s := range []grpc.StreamServerInterceptor{d.Identity.GRPCStream, d.Outcome.GRPCStream} {
		if s != nil {
			streams = append(streams, s)
		}
	}
	if len(streams) == 0 {
		return nil
	}
	return []grpc.ServerOption{grpc.ChainStreamInterceptor(streams...)}
}
