package runtime

import (
	"strings"

	"google.golang.org/grpc"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/router"
)

// grpcServerOptions are the router's gRPC server options the defects ask for: every family's
// careless interceptor, chained in family order; none for the conformant runtime. The defects are
// bugs of the inference service, so they intercept its calls only: reflection and health answer
// as they would on a conformant runtime.
func (d Defects) grpcServerOptions() []grpc.ServerOption {
	var streams []grpc.StreamServerInterceptor
	for _, s := range []grpc.StreamServerInterceptor{d.Tenancy.GRPCGateway, d.Identity.GRPCStream, d.Outcome.GRPCStream, d.Resilience.streamInterceptor()} {
		if s != nil {
			streams = append(streams, inferenceOnly(s))
		}
	}
	if len(streams) == 0 {
		return nil
	}
	return []grpc.ServerOption{grpc.ChainStreamInterceptor(streams...)}
}

// inferenceOnly runs s on the Inference service's calls and passes every other call straight to
// its handler.
func inferenceOnly(s grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	prefix := "/" + arcertv1.Inference_ServiceDesc.ServiceName + "/"
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if !strings.HasPrefix(info.FullMethod, prefix) {
			return handler(srv, ss)
		}
		return s(srv, ss, info, handler)
	}
}

// router is the part of the defects the router itself renders.
func (d Defects) router() router.Defects {
	return router.Defects{
		ProviderHTTP:             d.Identity.providerHTTP(),
		WorkerCall:               d.Identity.WorkerCall,
		QueueWaitUncounted:       d.Outcome.QueueWaitUncounted,
		ChatBodyUnlimited:        d.Outcome.ChatBodyUnlimited,
		GRPCStartsAtPick:         d.Resilience.GRPCStartsAtPick,
		GRPCSpliceOnDeviceFault:  d.Resilience.GRPCSpliceOnDeviceFault,
		GRPCSpliceOnWorkerLoss:   d.Resilience.GRPCSpliceOnWorkerLoss,
		GRPCShedWithoutRetryInfo: d.Resilience.GRPCShedWithoutRetryInfo,
		GRPCCoalescedTokens:      d.Resilience.GRPCCoalescedTokens,
		Operations:               d.Operations.Router,
		Labels:                   d.Tenancy.Labels,
		SharedFIFOClassQueue:     d.Admission.SharedFIFOClassQueue,
		SlowReaderHoldsSlot:      d.Admission.SlowReaderHoldsSlot,
		PrefillOnlyStreams:       d.Admission.PrefillOnlyStreams,
		Billing:                  d.Billing,
		Confidential:             d.Confidential.Router,
		Tools:                    d.Tools.Router,
	}
}
