// Package tooladapter is the tool adapter role of the reference runtime: a separate service that
// executes runtime-side tools for the router. It is its own identity. The router calls it with
// a key only the router holds (tools.router_key; not router.worker_token, which every worker
// holds) and the tenant context bound at admission; the adapter calls the tool server over the Model Context Protocol with its own
// credential (tools.adapter_key), passing the tenant context in the call's _meta. No tenant's key
// ever reaches it or leaves it, a tenant key cannot call it, and its own key is no identity at
// the router, so it can act neither as a tenant nor as an operator.
package tooladapter

import "errors"

// CallPath is the adapter's one endpoint: POST a CallRequest, get a CallResult.
const CallPath = "/v1/tools/call"

// The _meta keys the tenant context travels under to the tool server.
const (
	MetaTenant      = "aruntime/tenant"
	MetaApplication = "aruntime/application"
	MetaUser        = "aruntime/user"
	MetaRequestID   = "aruntime/request_id"
)

// CallRequest is one tool call the router asks for, with the context it was bound at admission.
type CallRequest struct {
	RequestID   string         `json:"request_id"`
	Tenant      string         `json:"tenant"`
	Application string         `json:"application"`
	User        string         `json:"user"`
	Tool        string         `json:"tool"`
	Arguments   map[string]any `json:"arguments"`
}

// MaxResultBytes bounds a tool's answer as the router takes it (the result text): a tool result
// goes into the prompt, so an unbounded one would be an unbounded prompt the tenant never sent.
// The adapter reads at most maxResponseBytes of the tool server's answer and the router at most
// that of the adapter's; a longer result fails the call (ErrUnavailable).
const MaxResultBytes = 32 << 10

// maxResponseBytes bounds one HTTP answer carrying a result: MaxResultBytes of text, escaped, in
// an envelope.
const maxResponseBytes = 3*MaxResultBytes + 4<<10

// ErrTooLarge means the tool's result was longer than MaxResultBytes.
var ErrTooLarge = errors.New("tooladapter: tool result too large")

// CallResult is the tool's answer as text; IsError is the tool's own error, which the model reads
// like any result.
type CallResult struct {
	Text    string `json:"text"`
	IsError bool   `json:"is_error,omitempty"`
}

// Sentinel errors of a call.
var (
	// ErrUnavailable means the adapter or the tool server behind it could not be reached or did
	// not answer in time: the request ends tool_unavailable.
	ErrUnavailable = errors.New("tooladapter: tool unavailable")
	// ErrRefused means the adapter refused the call (credential, unknown tool, bad body): a bug
	// of the caller, never retried with another credential.
	ErrRefused = errors.New("tooladapter: call refused")
)
