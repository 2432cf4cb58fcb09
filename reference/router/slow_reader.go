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

// streamSender sends one stream's messages, each within d (never bounded when d is 0). gRPC has
// no write deadline: Send blocks on flow control while the client does not read. So the messages
// go out on a goroutine of the sender's own, started at the first message and reused for every
// later one with one timer: a goroutine, a channel and a timer per message (per token) were a
// good share of the gRPC door's cost. Once a send has timed out, that goroutine is stuck in Send
// and every later send fails at once; the stuck Send returns when the handler returns and the
// call's context ends, which is what follows, since the request then ends client_too_slow and
// nothing more is sent on the stream. close must be called when the handler is done with the
// stream, so the goroutine ends.
type streamSender struct {
	stream grpc.ServerStreamingServer[arcertv1.CompleteResponse]
	d      time.Duration
	out    chan *arcertv1.CompleteResponse
	sent   chan error
	timer  *time.Timer
	stuck  bool
}

// send sends m within s.d. Only one goroutine (the handler's) may call send and close.
func (s *streamSender) send(m *arcertv1.CompleteResponse) error {
	if s.d <= 0 {
		return s.stream.Send(m)
	}
	if s.stuck {
		return errClientTooSlow
	}
	if s.out == nil {
		s.out, s.sent = make(chan *arcertv1.CompleteResponse), make(chan error, 1)
		go func(out <-chan *arcertv1.CompleteResponse, sent chan<- error) {
			for m := range out {
				sent <- s.stream.Send(m)
			}
		}(s.out, s.sent)
		s.timer = time.NewTimer(s.d)
	} else {
		s.timer.Reset(s.d) // Go 1.23+ timers: no stale tick survives Reset
	}
	s.out <- m
	select {
	case err := <-s.sent:
		s.timer.Stop()
		return err
	case <-s.timer.C:
		s.stuck = true
		return errClientTooSlow
	}
}

// close ends the sender's goroutine (at once, or when a stuck Send returns).
func (s *streamSender) close() {
	if s.out != nil {
		close(s.out)
		s.out = nil
		s.stuck = true
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
