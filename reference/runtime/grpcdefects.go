package runtime

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/aruntime/arcert/api/outcome"
)

// streamInterceptor renders the gRPC defects of d: nil for the conformant runtime.
func (d ResilienceDefects) streamInterceptor() grpc.StreamServerInterceptor {
	if !d.GRPCOutcomeFromStatus && !d.GRPCEndsOKAfterOutput && !d.GRPCUnavailableAsInternal {
		return nil
	}
	return d.intercept
}

// intercept holds the call's trailer back until the handler returns, then rewrites the ending as
// the switched-on defects say.
func (d ResilienceDefects) intercept(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	w := &heldStream{ServerStream: ss}
	err := handler(srv, w)
	code := status.Code(err)
	switch {
	case d.GRPCEndsOKAfterOutput && err != nil && w.sent > 0:
		return nil // the stream had begun: end it OK, and its trailer with it
	case d.GRPCOutcomeFromStatus && code == codes.OK && w.trailer != nil:
		w.trailer.Set(outcome.MetadataOutcome, string(outcome.Completed))
		w.trailer.Set(outcome.MetadataReason, string(outcome.ReasonNone))
	case d.GRPCUnavailableAsInternal && code == codes.Unavailable:
		if w.trailer != nil {
			w.trailer.Set(outcome.MetadataOutcome, string(outcome.Failed))
			w.trailer.Set(outcome.MetadataReason, string(outcome.ReasonInternal))
		}
		err = status.Error(codes.Internal, "internal error")
	}
	if w.trailer != nil {
		ss.SetTrailer(w.trailer)
	}
	return err
}

// heldStream keeps the trailer the handler sets and counts the messages it sends.
type heldStream struct {
	grpc.ServerStream
	trailer metadata.MD
	sent    int
}

func (s *heldStream) SetTrailer(md metadata.MD) { s.trailer = metadata.Join(s.trailer, md) }

func (s *heldStream) SendMsg(m any) error {
	s.sent++
	return s.ServerStream.SendMsg(m)
}
