package routing

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// MetadataWorkerID is the Generate response header in which a worker names itself
// (reference/worker sets it; routing does not import the worker).
const MetadataWorkerID = "arcert-worker-id"

// checkIdentity is the stream interceptor of a worker's connection: a Generate answered by a
// worker other than the one the address was declared for ends with Unavailable before its first
// message reaches the router, and takes the declared worker out of rotation (errAnotherWorker),
// as a Health answered by another worker does. Health is polled once a second, so without this
// a connection that landed on another worker (an address a restarted container or pod gave up,
// a proxy still pointing at it) would carry requests to a worker of perhaps another region or
// pool, and evidence would name the declared one, until the next poll. The prompt has reached
// the other worker by then; what this stops is serving its answer under another name. A worker
// that does not say who it is is taken at its word.
func checkIdentity(w func() *Worker) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil || method != arcertv1.Worker_Generate_FullMethodName {
			return cs, err
		}
		return &identityStream{ClientStream: cs, worker: w()}, nil
	}
}

// identityStream checks, at the first message it receives, who sent the stream's header. Like
// every ClientStream it is read from one goroutine at a time.
type identityStream struct {
	grpc.ClientStream
	worker  *Worker
	checked bool
	err     error
	// header is the stream's header as the check read it, which Header hands on: grpc-go copies
	// the metadata on every Header call, and the router reads it again for the served artifact.
	header    metadata.MD
	headerErr error
	headerOK  bool
}

// Header is the stream's header, read from the transport once.
func (s *identityStream) Header() (metadata.MD, error) {
	if !s.headerOK {
		s.header, s.headerErr = s.ClientStream.Header()
		s.headerOK = true
	}
	return s.header, s.headerErr
}

func (s *identityStream) RecvMsg(m any) error {
	if !s.checked {
		s.checked = true
		// Header waits for the header, which the worker sends with its first message or its
		// failure; an error means the stream failed, and RecvMsg below says how.
		if md, err := s.Header(); err == nil {
			if v := md.Get(MetadataWorkerID); len(v) == 1 && v[0] != "" && v[0] != s.worker.ID {
				cause := fmt.Errorf("%w: %s at %s answered a call as %q", errAnotherWorker, s.worker.ID, s.worker.Address, v[0])
				again := errors.Is(s.worker.Err(), errAnotherWorker)
				s.worker.MarkUnhealthy(cause)
				if p, ok := peer.FromContext(s.Context()); ok {
					s.worker.redial(p.LocalAddr, cause, again)
				}
				s.err = status.Error(codes.Unavailable, cause.Error())
			}
		}
	}
	if s.err != nil {
		return s.err
	}
	return s.ClientStream.RecvMsg(m)
}
