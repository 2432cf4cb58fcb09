package tooladapter

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// bearer adds one credential to every request of an MCP session's HTTP client.
type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	resp, err := b.next.RoundTrip(r)
	if err == nil {
		// A tool server's answer is read to at most maxResponseBytes: a longer one is cut and
		// fails to decode, rather than filling the adapter's memory.
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxResponseBytes), Closer: resp.Body}
	}
	return resp, err
}

// limitedBody is a response body read through a limit and closed as the original.
type limitedBody struct {
	io.Reader
	io.Closer
}

// CallMCP calls tool on the MCP server at endpoint with key as the credential and the tenant
// context of req in the call's _meta. It opens a session per call: a tool call is rare next to
// generation, and a fresh session has no state a cut link could leave half-broken. Any failure
// to reach the server is ErrUnavailable.
func CallMCP(ctx context.Context, endpoint, key string, req CallRequest, meta mcp.Meta) (CallResult, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "aruntime-tooladapter", Version: "v1"}, nil)
	transport := &mcp.StreamableClientTransport{
		Endpoint:             endpoint,
		HTTPClient:           &http.Client{Transport: bearer{key: key, next: http.DefaultTransport}},
		MaxRetries:           -1, // a retry inside the session would outlive the caller's budget
		DisableStandaloneSSE: true,
	}
	cs, err := client.Connect(ctx, transport, nil)
	if err != nil {
		return CallResult{}, fmt.Errorf("%w: connect %s: %w", ErrUnavailable, endpoint, err)
	}
	defer func() { _ = cs.Close() }() // closing a stateless session only ends it locally
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Meta: meta, Name: req.Tool, Arguments: req.Arguments})
	if err != nil {
		return CallResult{}, fmt.Errorf("%w: call %s: %w", ErrUnavailable, req.Tool, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	if b.Len() > MaxResultBytes {
		return CallResult{}, fmt.Errorf("%w: %s answered %d bytes, at most %d", ErrTooLarge, req.Tool, b.Len(), MaxResultBytes)
	}
	return CallResult{Text: b.String(), IsError: res.IsError}, nil
}

// contextMeta is the _meta of a call for req: the tenant context, nothing else.
func contextMeta(req CallRequest) mcp.Meta {
	return mcp.Meta{MetaTenant: req.Tenant, MetaApplication: req.Application, MetaUser: req.User, MetaRequestID: req.RequestID}
}
