package router

import (
	"errors"
	"os"
	"time"

	"google.golang.org/grpc"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
)

// Slow readers. A streamed response is written as the worker produces it, and the request holds
// its admission slot until the stream ends. A client that stops reading would make a write block
// until the deadline, holding the slot (and a worker's batch place) for nothing, so that a few such
// clients can starve every other tenant. Each write therefore has its class's output write
// timeout (config.TrafficClass.WriteTimeout): past it the stream ends failed/client_too_slow,
// through the normal ending and evidence path, with what was delivered so far.

// errClientTooSlow is a write that waited longer than the class's output write timeout.
var errClientTooSlow = errors.New("router: the client did not read its stream within the write timeout")

// writeTimeout is how long one write of j's stream may wait; 0 under the SlowReaderHoldsSlot
// defect, which waits as long as the client likes.
func (r *Router) writeTimeout(j job) time.Duration {
	if r.defects.SlowReaderHoldsSlot {
		return 0
	}
	return j.class.OutputWriteTimeout()
}

// tooSlow maps a write error to errClientTooSlow when it is a passed write deadline.
func tooSlow(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errClientTooSlow
	}
	return err
}

// sendWithin sends m on stream, giving up after d (never when d is 0). gRPC has no write deadline:
// Send blocks on flow control while the client does not read. On a timeout the Send left behind
// returns when the handler returns and the call's context ends, which is what follows at once,
// since the request then ends client_too_slow and nothing more is sent on the stream.
func sendWithin(stream grpc.ServerStreamingServer[arcertv1.CompleteResponse], m *arcertv1.CompleteResponse, d time.Duration) error {
	if d <= 0 {
		return stream.Send(m)
	}
	sent := make(chan error, 1)
	go func() { sent <- stream.Send(m) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-sent:
		return err
	case <-t.C:
		return errClientTooSlow
	}
}

// clientGone is the ending of a request whose caller stopped reading: gone, or too slow.
func clientGone(end ending, err error) ending {
	end.class = outcome.Failed
	if errors.Is(err, errClientTooSlow) {
		end.reason, end.message = outcome.ReasonClientTooSlow, "the caller did not read its stream within the write timeout"
		return end
	}
	end.reason, end.message = outcome.ReasonClientCancelled, "the caller went away mid-response"
	return end
}
