// Package driver is the harness's OpenAI HTTP driver: the one way the conformance suites and the
// chaos traffic reach a runtime over HTTP. It measures what the objectives are stated in (TTFT,
// ITL, total latency), reads the outcome contract from headers, trailers, bodies and the final SSE
// event, and records contract violations as data rather than failing, so that validation can run
// afterwards as pure functions over the recorded results. For a runtime that does not speak the
// contract (WithInferredOutcomes) it infers each outcome from plain OpenAI-compatible responses
// instead, and marks it inferred.
package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// Sentinel errors of the driver. Every error Do and GetJSON return wraps exactly one of them, so a
// caller can tell "the runtime could not be reached" from "the harness built a bad call".
var (
	// ErrTransport marks a failure to exchange bytes with the runtime: refused or reset
	// connection, cancelled context. The runtime may or may not have received the request;
	// Result.Indeterminate says which.
	ErrTransport = errors.New("driver: transport")
	// ErrRequest marks a call the driver could not build, such as a malformed base URL or an
	// unencodable body: a harness bug, never a runtime's fault.
	ErrRequest = errors.New("driver: bad request")
	// ErrDecode marks a discovery body that is not the JSON the contract declares.
	ErrDecode = errors.New("driver: decode")
)

const (
	// MaxIdleConnsPerHost is how many idle connections to one router the driver keeps: every
	// connection a burst of up to that many concurrent requests opened. With fewer (it was 256),
	// an open-loop run past a few thousand requests a second collapsed on a hiccup: a pause of a
	// few milliseconds lifted the requests in flight above the pool, the connections dialled for
	// them were closed again when they came back, and the next hiccup dialled again, each dial
	// costing CPU the run no longer had (measured: 4,071 new connections in a 2 s run at
	// 10,000/s, and 13,452, with "too many open files", at 15,000/s). Kept, they are dialled once.
	MaxIdleConnsPerHost = 1024
	// MaxConnsPerHost bounds the connections to one router. Past it, a request waits in the
	// driver for a connection to come free, and that wait is part of its latency: at that point
	// the runtime holds over 4,096 requests at once, and the alternative, a connection per
	// request, would run the harness out of file descriptors and fail every call it makes,
	// its ledger's writes included.
	MaxConnsPerHost = 4096
	// maxBodyBytes bounds a non-streamed body; a completion many times larger than any model's
	// context is a runtime bug, and an unbounded read would let it exhaust the harness.
	maxBodyBytes = 16 << 20
	// maxEventBytes bounds one SSE line, for the same reason, per event.
	maxEventBytes = 4 << 20
)

// Client talks to one runtime's HTTP data plane and discovery endpoints, at one router or spread
// over several (WithMoreEndpoints). It is safe for concurrent use; one Client per target keeps
// connections warm across the whole certification run.
type Client struct {
	routes spread
	hc     *http.Client
	key    string
	// held counts the calls in flight per router and the calls that met the connection bound,
	// shared by the copies At makes (they share the connections).
	held *held
	// infer and rules are WithInferredOutcomes.
	infer bool
	rules []Rule
	// perRouter is WithMaxConnsPerRouter's bound (0: MaxConnsPerHost).
	perRouter int
}

// Option configures a Client at construction.
type Option func(*Client)

// WithHTTPClient replaces the tuned default client, e.g. for mTLS or an in-memory transport. The
// caller then owns its pooling and must not set http.Client.Timeout, which would cut long streams.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithMaxConnsPerRouter bounds the connections the default client opens to each router at n
// instead of MaxConnsPerHost, for a runtime (or a proxy in front of it) that accepts fewer, or one
// built to hold more requests at once. n < 1 keeps MaxConnsPerHost. It has no effect with
// WithHTTPClient, whose pool is the caller's.
func WithMaxConnsPerRouter(n int) Option { return func(c *Client) { c.perRouter = n } }

// WithAPIKey sets the bearer credential used when a Call or GetJSON names no key, so suites that
// act as one tenant need not repeat it.
func WithAPIKey(key string) Option { return func(c *Client) { c.key = key } }

// New returns a Client for the runtime at baseURL (scheme and host, e.g. "http://127.0.0.1:8080").
// A malformed baseURL is reported by the first call, wrapped in ErrRequest.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{routes: spread{bases: []string{strings.TrimRight(baseURL, "/")}, next: new(atomic.Uint64)}}
	for _, o := range opts {
		o(c)
	}
	bound := int64(0)
	if c.hc == nil {
		perRouter := MaxConnsPerHost
		if c.perRouter > 0 {
			perRouter = c.perRouter
		}
		c.hc, bound = newHTTPClient(min(MaxIdleConnsPerHost, perRouter), perRouter), int64(perRouter)
	}
	c.held = newHeld(bound, c.routes.bases)
	return c
}

// newHTTPClient is the default client: it keeps the connections a burst opened alive (up to
// idlePerHost a router), opens at most perHost a router, does not follow redirects (a runtime
// that redirects an inference call is answering without the contract, which the driver must
// see), and leaves deadlines to the caller's context.
func newHTTPClient(idlePerHost, perHost int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no bound over all routers: each keeps idlePerHost, however many there are
	t.MaxIdleConnsPerHost = idlePerHost
	t.MaxConnsPerHost = perHost
	// Compression would make the transport buffer SSE events and blur TTFT and ITL.
	t.DisableCompression = true
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// authorize sets the bearer credential: the call's own key, else the client's default.
func (c *Client) authorize(req *http.Request, key string) {
	if key == "" {
		key = c.key
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
}

// GetJSON reads a discovery or evidence endpoint (path may carry a query) as key and, on a 2xx
// status, decodes the body into out. A non-2xx status is returned, not an error: whether a refusal
// is right is for the check to decide (a tenant key on an operator API must be refused).
func (c *Client) GetJSON(ctx context.Context, path, key string, out any) (status int, hdr http.Header, err error) {
	return c.JSON(ctx, http.MethodGet, path, key, nil, nil, out)
}

// PostJSON posts body to path as key, with extra headers, and decodes a 2xx answer into out.
func (c *Client) PostJSON(ctx context.Context, path, key string, body []byte, extra http.Header, out any) (int, http.Header, error) {
	return c.JSON(ctx, http.MethodPost, path, key, body, extra, out)
}

// JSON makes one JSON exchange with method on path as key (body may be nil) and decodes a 2xx
// answer into out. Like GetJSON it returns a refusal's status rather than an error.
func (c *Client) JSON(ctx context.Context, method, path, key string, body []byte, extra http.Header, out any) (status int, hdr http.Header, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	base := c.routes.forPath(path)
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s %s%s: %w", ErrRequest, method, path, c.at(base), err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	c.authorize(req, key)
	defer c.held.enter(base)()
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s %s%s: %w", ErrTransport, method, path, c.at(base), err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return resp.StatusCode, resp.Header, fmt.Errorf("%w: %s %s%s: %w", ErrTransport, method, path, c.at(base), err)
	}
	if resp.StatusCode/100 != 2 || out == nil {
		return resp.StatusCode, resp.Header, nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return resp.StatusCode, resp.Header, fmt.Errorf("%w: %s %s%s: %w", ErrDecode, method, path, c.at(base), err)
	}
	return resp.StatusCode, resp.Header, nil
}
