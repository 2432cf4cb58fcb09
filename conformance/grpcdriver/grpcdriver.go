// Package grpcdriver is the harness's gRPC driver for runtimes that serve arcert.v1.Inference. Like
// the HTTP driver it measures TTFT and inter-token latency and records the outcome contract (here
// the trailers arcert-outcome, arcert-outcome-reason, arcert-served-by, x-request-id) as data,
// listing every violation instead of failing, so checks judge results afterwards.
package grpcdriver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
)

// ErrTransport marks a call whose exchange broke before any status arrived.
var ErrTransport = errors.New("grpcdriver: transport")

// Client calls one runtime's Inference service, at one router or spread round-robin over several
// (New's further addresses), as the HTTP driver does: each Result names the router of its call.
type Client struct {
	routes []route
	next   atomic.Uint64
	// ready, when set, skips the routers a load balancer would not send to (see OnlyReady).
	ready func(addr string) bool
}

// route is one router's connection.
type route struct {
	addr   string
	conn   *grpc.ClientConn
	client arcertv1.InferenceClient
}

// New connects (lazily, as grpc.NewClient does) to addr and to every further router in more, over
// plaintext: the harness talks to loopback or to a test network it made. Calls take the routers
// in turn, addr first; an address may repeat, each listing taking its own turn.
func New(addr string, more ...string) (*Client, error) {
	c := &Client{}
	for _, a := range append([]string{addr}, more...) {
		conn, err := grpc.NewClient(a, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("grpcdriver: %s: %w", a, err)
		}
		c.routes = append(c.routes, route{addr: a, conn: conn, client: arcertv1.NewInferenceClient(conn)})
	}
	return c, nil
}

// Close releases every router's connection.
func (c *Client) Close() error {
	var errs []error
	for _, r := range c.routes {
		errs = append(errs, r.conn.Close())
	}
	return errors.Join(errs...)
}

// Primary returns a Client for the first router alone, sharing this one's connection: for a
// check whose readings are that router's own (a runtime may keep per-router state, such as
// quota buckets). Close the original, not this one.
func (c *Client) Primary() *Client {
	return &Client{routes: c.routes[:1]}
}

// pick is the router of the next call; one atomic increment, so it is safe for concurrent use
// and N calls over k routers split N/k each.
func (c *Client) pick() route {
	n := c.next.Add(1) - 1
	if c.ready != nil {
		return pickReady(c.routes, n, c.ready)
	}
	return c.routes[n%uint64(len(c.routes))]
}

// Result is what the driver recorded of one call.
type Result struct {
	Code      codes.Code
	RequestID string
	Outcome   outcome.Class
	Reason    outcome.Reason
	ServedBy  outcome.ServedBy
	Text      string
	Tokens    int
	Usage     *arcertv1.Usage
	Start     time.Time
	TTFT      time.Duration
	ITL       []time.Duration
	Latency   time.Duration
	// RetryAfter is the retry delay the call's status carried as google.rpc.RetryInfo (gRPC's
	// Retry-After), 0 when it carried none.
	RetryAfter time.Duration
	// ContractViolations lists, in plain words, every way the call broke the contract.
	ContractViolations []string
	// Endpoint is the address of the router the call was sent to.
	Endpoint string
}

// Complete makes one streaming call as key and records it.
func (c *Client) Complete(ctx context.Context, key string, req *arcertv1.CompleteRequest) (Result, error) {
	return c.CompleteWatch(ctx, key, req, nil)
}

// CompleteWatch is Complete that calls onContent, when set, after each content message with the
// number received so far, on the reading goroutine: a fault can then be timed to a running stream
// (as the HTTP driver's Call.OnContent does).
func (c *Client) CompleteWatch(ctx context.Context, key string, req *arcertv1.CompleteRequest, onContent func(tokens int)) (Result, error) {
	r := c.pick()
	res := Result{Start: time.Now(), Endpoint: r.addr}
	stream, err := r.client.Complete(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key), req)
	if err != nil {
		return res, fmt.Errorf("%w: %s: %w", ErrTransport, res.Endpoint, err)
	}
	last := res.Start
	for {
		msg, err := stream.Recv()
		now := time.Now()
		if err != nil {
			res.Latency = now.Sub(res.Start)
			if !errors.Is(err, io.EOF) {
				res.Code = status.Code(err)
				res.RetryAfter = retryInfo(err)
			}
			if res.Code == codes.Unavailable && stream.Trailer().Len() == 0 {
				return res, fmt.Errorf("%w: %s: %w", ErrTransport, res.Endpoint, err)
			}
			res.read(stream.Trailer())
			return res, nil
		}
		if msg.GetText() != "" {
			if res.Tokens == 0 {
				res.RequestID = headerRequestID(stream)
				res.TTFT = now.Sub(res.Start)
			} else {
				res.ITL = append(res.ITL, now.Sub(last))
			}
			last = now
			res.Tokens++
			res.Text += msg.GetText()
			if onContent != nil {
				onContent(res.Tokens)
			}
		}
		if msg.GetUsage() != nil {
			res.Usage = msg.GetUsage()
		}
	}
}

// readOutcome records the request id, class and reason the trailer states, with every way they
// break the contract, and returns the class; read and readUnary check what their kind of call adds.
func (r *Result) readOutcome(tr metadata.MD) outcome.Class {
	one := func(key string) string {
		v := tr.Get(key)
		if len(v) != 1 {
			r.violate("trailer %s has %d values, want 1", key, len(v))
			return ""
		}
		return v[0]
	}
	if id := one(outcome.MetadataRequestID); id != "" || r.RequestID == "" {
		r.RequestID = id // the trailer's word; a call the client ended keeps the header's
	}
	c, err := outcome.ParseClass(one(outcome.MetadataOutcome))
	if err != nil {
		r.violate("%v", err)
	}
	r.Outcome = c
	reason, err := outcome.ParseReason(one(outcome.MetadataReason))
	switch {
	case err != nil:
		r.violate("%v", err)
	case c.Valid() && reason.Class() != c:
		r.violate("reason %q belongs to class %q, not %q", reason, reason.Class(), c)
	}
	r.Reason = reason
	return c
}

// violate records one way the call broke the contract.
func (r *Result) violate(format string, args ...any) {
	r.ContractViolations = append(r.ContractViolations, fmt.Sprintf(format, args...))
}

// read checks and records the trailer's statement of the outcome of a streamed call.
func (r *Result) read(tr metadata.MD) {
	c := r.readOutcome(tr)
	if v := tr.Get(outcome.MetadataServedBy); len(v) > 0 {
		sb, err := outcome.ParseServedBy(v[0])
		if err != nil {
			r.violate("%v", err)
		}
		r.ServedBy = sb
	}
	if c.Served() {
		if r.Code != codes.OK {
			r.violate("served outcome %q with status %s", c, r.Code)
		}
		if r.ServedBy.IsZero() {
			r.violate("served outcome without %s", outcome.MetadataServedBy)
		}
		if r.Usage == nil {
			r.violate("served stream without a final usage message")
		}
	} else if c.Valid() && r.Code == codes.OK {
		r.violate("outcome %q with status OK", c)
	}
}

// headerRequestID is the request id a stream's header metadata states, once its first message
// arrived: the only place a call the client ends itself (cancelled, or past its own deadline)
// learns it, as no trailer follows.
func headerRequestID(stream grpc.ClientStream) string {
	md, err := stream.Header()
	if err != nil {
		return ""
	}
	if v := md.Get(outcome.MetadataRequestID); len(v) == 1 {
		return v[0]
	}
	return ""
}

// retryInfo is the delay a call's error status carries as google.rpc.RetryInfo, 0 when it
// carries none (or a negative one, which tells a client nothing).
func retryInfo(err error) time.Duration {
	st, ok := status.FromError(err)
	if !ok {
		return 0
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.RetryInfo); ok && info.GetRetryDelay() != nil {
			return max(0, info.GetRetryDelay().AsDuration())
		}
	}
	return 0
}
