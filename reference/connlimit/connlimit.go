// Package connlimit bounds the connections the router's HTTP front door holds open. Past the bound
// a new connection is not left in the kernel's accept backlog until its client gives up, which is
// what golang.org/x/net/netutil.LimitListener does (it stops accepting): it is accepted, its
// request is read and answered at once with the contract's 503 shed/capacity and a Retry-After,
// and it is closed. Overload then stays cheap for the server and visible to the client, as a
// refusal it can act on rather than a connection that hangs.
package connlimit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/outcomehttp"
)

// refuseTimeout bounds the whole exchange with a refused connection: reading its request and
// writing the answer. A client that sends nothing within it is closed without one.
const refuseTimeout = time.Second

// drainLimit is how much of a refused request's body is read before the answer, so that closing
// the connection does not reset it while the client is still writing (the client would then see
// a reset, not the 503). A larger body is cut off after the answer.
const drainLimit = 64 << 10

// headerLimit bounds what is read of a refused request's line and headers: enough for any
// request the router serves, and no more buffered for a client the router already refuses.
const headerLimit = 16 << 10

// maxRefusing bounds the refused connections answered at once. Past it a refused connection is
// closed without an answer: the refusals must not cost more than the work they protect.
const maxRefusing = 256

// Listener is a net.Listener that holds at most Max connections open at once.
type Listener struct {
	net.Listener
	max        int64
	retryAfter time.Duration
	open       atomic.Int64
	refused    atomic.Uint64
	refusing   chan struct{} // one token per refusal being answered (maxRefusing)
}

// New bounds l to max open connections (max > 0); retryAfter is what a refused request is told.
func New(l net.Listener, max int, retryAfter time.Duration) *Listener {
	return &Listener{Listener: l, max: int64(max), retryAfter: retryAfter, refusing: make(chan struct{}, maxRefusing)}
}

// Accept returns the next connection within the bound, answering every one past it as shed.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &conn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		l.refused.Add(1)
		select {
		case l.refusing <- struct{}{}:
			go func() {
				defer func() { <-l.refusing }()
				l.refuse(c)
			}()
		default:
			_ = c.Close() // maxRefusing are being answered already
		}
	}
}

// Open is how many accepted connections are open now.
func (l *Listener) Open() int64 { return l.open.Load() }

// Refused is how many connections were answered shed because the bound was reached.
func (l *Listener) Refused() uint64 { return l.refused.Load() }

// refuse reads c's first request (within refuseTimeout), answers it 503 shed/capacity with
// Retry-After and Connection: close, and closes c. An HTTP/2 client with prior knowledge (the
// router also speaks h2c) is closed without an answer: an HTTP/1 response would read to it as a
// protocol error, and the closed connection tells it as much, that nothing ran.
func (l *Listener) refuse(c net.Conn) {
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(refuseTimeout))
	req, err := http.ReadRequest(bufio.NewReader(io.LimitReader(c, headerLimit)))
	if err != nil || req.Method == "PRI" {
		return // not HTTP/1, too large or nothing sent in time: there is no request to answer
	}
	if !strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
		// A client waiting for 100 Continue sends no body: it reads the answer at once.
		_, _ = io.CopyN(io.Discard, req.Body, drainLimit)
	}
	res := shedResponse(l.retryAfter)
	defer func() { _ = res.Body.Close() }()
	_ = res.Write(c)
}

// shedResponse is the contract's answer to work refused for capacity: 503, the outcome headers, a
// request id, Retry-After and an OpenAI error body that states the outcome.
func shedResponse(retryAfter time.Duration) *http.Response {
	body, _ := json.Marshal(openai.ErrorBody{ // the wire types always encode
		Error: openai.ErrorDetail{Message: "the router holds as many connections as it may; retry later",
			Type: "server_overloaded", Code: string(outcome.ReasonCapacity)},
		Outcome: &openai.Outcome{Class: outcome.Shed, Reason: outcome.ReasonCapacity},
	})
	body = append(body, '\n')
	h := http.Header{}
	outcomehttp.Set(h, outcome.ReasonCapacity)
	h.Set(outcome.HeaderRequestID, outcomehttp.NewID("req-"))
	h.Set("Retry-After", strconv.FormatInt(max(1, int64(math.Ceil(retryAfter.Seconds()))), 10))
	h.Set("Content-Type", "application/json")
	return &http.Response{
		StatusCode: outcome.StatusFor(outcome.ReasonCapacity), ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Close: true,
	}
}

// conn gives its place back to the listener once, however often it is closed.
type conn struct {
	net.Conn
	l    *Listener
	once sync.Once
}

func (c *conn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// CloseWrite half-closes the connection where the underlying one can, as net/http does before
// its delayed close of a connection whose request body it did not read (a 413 from
// MaxBytesReader): the client then reads the answer instead of a reset.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
