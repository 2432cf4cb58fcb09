// Package provider is the reference runtime's client for a hosted OpenAI-compatible upstream, the
// last place of a fallback chain before a reduced model. It exists as its own small package
// because what it must not do matters as much as what it does: a fallback must never carry
// broader authority than the runtime's own contract with the provider. So the client sends the
// provider's credential and a request body rebuilt field by field, and nothing else: never the
// tenant's credential, never the caller's headers or cookies, never the caller's end-user label or
// cache salt. The one piece of tenant context it sends is an opaque label (see TenantHeader), so
// that the provider side can attribute, and a certification can check, whose data left.
package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// Sentinel errors of Stream, matched with errors.Is. They split by what the router should do
// next, not by status code: ErrUnavailable means the provider cannot serve now, so another place
// may; ErrRejected means this request as sent will not be served, wherever it goes.
var (
	// ErrUnavailable covers transport failures, 429, 5xx, a broken or truncated stream, and the
	// answers that say the runtime's own setup is wrong (401/403 for its credential, 404 for its
	// model mapping or base URL, 408): none of those is the tenant's fault.
	ErrUnavailable = errors.New("provider: upstream unavailable")
	// ErrRejected covers the other 4xx answers, which are about the request itself, and requests
	// the client refuses to send. The upstream's message is kept in the error.
	ErrRejected = errors.New("provider: upstream rejected the request")
)

// TenantHeader carries the opaque per-tenant label set by WithTenantLabel. It is the only tenant
// context a hosted request carries, and it is deliberate: the provider records it so that where
// a tenant's data went can be checked from the receiving end. It is a label, never a credential,
// and carries no authority; the router passes the tenant's name, which the provider the operator
// contracted with is allowed to know.
const TenantHeader = "X-Aruntime-Tenant"

// userAgent replaces Go's default, so nothing about the client's build leaks either.
const userAgent = "aruntime-provider-client"

// tenantKey is the context key of the tenant label.
type tenantKey struct{}

// WithTenantLabel returns ctx carrying the label Stream sends as TenantHeader. It travels in the
// context because it belongs to one request, like its deadline; without it no label is sent.
func WithTenantLabel(ctx context.Context, label string) context.Context {
	return context.WithValue(ctx, tenantKey{}, label)
}

// tenantLabel is the label WithTenantLabel put in ctx, or "".
func tenantLabel(ctx context.Context) string {
	s, _ := ctx.Value(tenantKey{}).(string)
	return s
}

// Client calls one hosted provider. It is safe for concurrent use.
type Client struct {
	base string
	key  string
	http *http.Client
}

// New returns a client for the provider at baseURL (its root, with or without a trailing /v1)
// that authenticates with apiKey, the runtime's own provider credential; an empty key sends no
// Authorization, for an upstream that needs none. httpClient may be nil. The client is copied
// without its cookie jar and with redirects refused: a jar could attach cookies the caller set
// for someone else, and a redirect could carry the provider key to another host.
func New(baseURL, apiKey string, httpClient *http.Client) *Client {
	hc := http.Client{}
	if httpClient != nil {
		hc = *httpClient
	}
	hc.Jar = nil
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	base := strings.TrimSuffix(strings.TrimRight(baseURL, "/"), "/v1")
	return &Client{base: base, key: apiKey, http: &hc}
}

// Usage is what a hosted request consumed, as the upstream reported it.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	CachedTokens     int
	// Reported is false when the upstream sent no usage; CompletionTokens then counts the content
	// pieces received and PromptTokens is 0, so the router must count the prompt itself.
	Reported     bool
	FinishReason string
}

// UpstreamError is a non-success answer of the upstream. It wraps ErrUnavailable or ErrRejected.
type UpstreamError struct {
	Status int
	// Message is the upstream's own error message, or the start of its body.
	Message string
	// RetryAfter is the upstream's Retry-After in whole seconds, zero when absent.
	RetryAfter time.Duration
	kind       error
}

var _ error = (*UpstreamError)(nil)

// Error says what the upstream answered, with its message.
func (e *UpstreamError) Error() string {
	return fmt.Sprintf("%v: status %d: %s", e.kind, e.Status, e.Message)
}

// Unwrap returns the sentinel the status maps to.
func (e *UpstreamError) Unwrap() error { return e.kind }

// classify maps a non-success status to a sentinel; see ErrUnavailable for why some 4xx are
// unavailability rather than rejection.
func classify(status int) error {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusRequestTimeout, http.StatusTooManyRequests:
		return ErrUnavailable
	}
	if status >= 400 && status < 500 {
		return ErrRejected
	}
	return ErrUnavailable
}

// newRequest builds the HTTP request from scratch, so that its only headers are the ones listed
// here: the provider's credential, the tenant label, and content negotiation. Identity encoding
// keeps a streamed answer from being buffered by a compressor.
func (c *Client) newRequest(ctx context.Context, path string, body []byte) (*http.Request, error) {
	label := tenantLabel(ctx)
	if strings.ContainsFunc(label, unicode.IsControl) {
		return nil, fmt.Errorf("%w: tenant label %q is not a header value; not sent", ErrRejected, label)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: base URL %q: %w", ErrUnavailable, c.base, err)
	}
	req.Header = http.Header{}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", userAgent)
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if label != "" {
		req.Header.Set(TenantHeader, label)
	}
	return req, nil
}
