package runtime

import (
	"google.golang.org/grpc"

	"github.com/aruntime/arcert/reference/router"
)

// grpcServerOptions are the router's gRPC server options the defects ask for: every family's
// careless interceptor, chained in family order; none for the conformant runtime.
func (d Defects) grpcServerOptions() []grpc.ServerOption {
	var streams []grpc.StreamServerInterceptor
	for _, s := range []grpc.StreamServerInterceptor{d.Tenancy.GRPCGateway, d.Identity.GRPCStream, d.Outcome.GRPCStream, d.Resilience.streamInterceptor()} {
		if s != nil {
			streams = append(streams, s)
		}
	}
	if len(streams) == 0 {
		return nil
	}
	return []grpc.ServerOption{grpc.ChainStreamInterceptor(streams...)}
}

// router is the part of the defects the router itself renders.
func (d Defects) router() router.Defects {
	return router.Defects{
		ProviderHTTP:         d.Identity.providerHTTP(),
		WorkerCall:           d.Identity.WorkerCall,
		QueueWaitUncounted:   d.Outcome.QueueWaitUncounted,
		GRPCStartsAtPick:     d.Resilience.GRPCStartsAtPick,
		Operations:           d.Operations.Router,
		Labels:               d.Tenancy.Labels,
		SharedFIFOClassQueue: d.Admission.SharedFIFOClassQueue,
		SlowReaderHoldsSlot:  d.Admission.SlowReaderHoldsSlot,
		Billing:              d.Billing,
	}
}
