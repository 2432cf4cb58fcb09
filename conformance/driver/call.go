package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// Paths of the data-plane endpoints a Call may target.
const (
	PathChatCompletions = "/v1/chat/completions"
	PathCompletions     = "/v1/completions"
)

// Call is one inference request as the harness means it: which endpoint, as whom, with what body,
// plus any extra headers a test needs to send (a spoofed X-Tenant-ID, a traffic class).
type Call struct {
	// Path is PathChatCompletions or PathCompletions.
	Path string
	// Key is the bearer credential; empty uses the Client's default key.
	Key string
	// Body is sent as JSON; Body.Stream asks for SSE.
	Body openai.CompletionRequest
	// Raw, when set, is sent as the body instead of Body (malformed input on purpose); Stream then
	// says whether to ask for SSE. The response is read and its outcome inferred as for Body.
	Raw    []byte
	Stream bool
	// Header holds extra request headers. They replace the driver's own headers of the same name,
	// so a test can also send a wrong Authorization on purpose.
	Header http.Header
	// OnContent, when set, is called after each content chunk of a stream with the number
	// received so far, on the reading goroutine: a fault can then be timed to a running stream
	// instead of to a guess at its first token.
	OnContent func(tokens int)
}

// Result is what the harness recorded about one Call: the contract as the runtime stated it, the
// timings the objectives are written in, and every way the response broke the contract. It is a
// record, not a verdict: checks judge it afterwards.
type Result struct {
	// Status is the HTTP status; 0 when no response arrived.
	Status int
	// RequestID is the X-Request-Id response header.
	RequestID string
	// Outcome is the authoritative class: the stream's final event, else the trailer, else the
	// header, else the error body's aruntime_outcome. It is spelt as the runtime spelt it (an
	// unknown class is also listed in ContractViolations) and empty when Indeterminate.
	Outcome outcome.Class
	// Reason and ServedBy come from the same statement as Outcome.
	Reason   outcome.Reason
	ServedBy outcome.ServedBy
	// HeaderOutcome is what the ARuntime-Outcome header said: for a stream, the outcome at its start.
	HeaderOutcome outcome.Class
	// RetryAfter is the parsed Retry-After header; 0 when absent.
	RetryAfter time.Duration
	// Text is the content of choice 0, concatenated across chunks.
	Text string
	// Usage is the token accounting of the body or of the stream's final event.
	Usage openai.Usage
	// Tokens counts content chunks received; a non-streamed response with content counts as one.
	Tokens int
	// Start is when the request was handed to the transport.
	Start time.Time
	// TTFT is the time from Start to the first content chunk; for a non-streamed response, to the
	// full body. 0 when no content arrived.
	TTFT time.Duration
	// ITL holds the gaps between consecutive content chunks.
	ITL []time.Duration
	// Latency is the time from Start to the end of the response.
	Latency time.Duration
	// MidStreamError reports that a stream ended with an error event.
	MidStreamError bool
	// Error is the OpenAI error object of an error body or a mid-stream error event.
	Error *openai.ErrorDetail
	// Indeterminate reports a transport failure after the request may have reached the runtime:
	// its outcome is unknown until reconciled against evidence and queue state.
	Indeterminate bool
	// ContractViolations lists, in plain words, every way the response broke the contract.
	ContractViolations []string
	// Inferred reports an outcome the runtime did not state but the driver inferred
	// (WithInferredOutcomes), from what InferredFrom says in plain words. Reason is then the
	// closest of the contract's reasons, and ServedBy is empty.
	Inferred     bool
	InferredFrom string
	// Endpoint is the base URL of the router the call was sent to: one of the Client's
	// Endpoints, taken in turn.
	Endpoint string
	// FinishReason is choice 0's finish_reason, of the body or the stream.
	FinishReason string
	// ToolCalls are the tool calls choice 0 hands the client: the message's, or every streamed
	// delta's in order.
	ToolCalls []openai.ToolCall
}

// Do sends one Call and records the response, plain or streamed (decided by the response's
// Content-Type, so a stream refused before it starts is read as the error body it is). The error
// is non-nil only when the driver could not build the call (ErrRequest) or the exchange broke
// (ErrTransport); a response that breaks the contract is a Result with ContractViolations.
func (c *Client) Do(ctx context.Context, call Call) (Result, error) {
	base := c.routes.pick()
	body, err := json.Marshal(&call.Body) // a pointer: boxing the struct would copy it
	if err != nil {
		return Result{Endpoint: base}, fmt.Errorf("%w: encode %s body: %w", ErrRequest, call.Path, err)
	}
	if call.Raw != nil {
		body, call.Body.Stream = call.Raw, call.Stream
	}
	var wrote atomic.Bool
	tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }})
	req, err := http.NewRequestWithContext(tctx, http.MethodPost, base+call.Path, bytes.NewReader(body))
	if err != nil {
		return Result{Endpoint: base}, fmt.Errorf("%w: post %s%s: %w", ErrRequest, call.Path, c.at(base), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if call.Body.Stream {
		req.Header.Set("Accept", "text/event-stream")
	}
	c.authorize(req, call.Key)
	for k, vs := range call.Header {
		req.Header[http.CanonicalHeaderKey(k)] = slices.Clone(vs)
	}

	defer c.held.enter(base)() // until the body is read: the connection is held that long
	res := Result{Start: time.Now(), Endpoint: base}
	resp, err := c.hc.Do(req)
	if err != nil {
		res.Latency = time.Since(res.Start)
		// Once headers were handed to the connection the runtime may have acted on them.
		res.Indeterminate = wrote.Load()
		return res, fmt.Errorf("%w: post %s%s: %w", ErrTransport, call.Path, c.at(base), err)
	}
	defer func() { _ = resp.Body.Close() }()

	r := recorder{res: &res, onContent: call.OnContent, infer: c.infer, rules: c.rules}
	r.readHeader(resp)
	if isEventStream(resp.Header) {
		err = r.readStream(resp)
	} else {
		if call.Body.Stream && resp.StatusCode/100 == 2 {
			r.violate("stream requested but the %d response is %q, not text/event-stream",
				resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		err = r.readPlain(resp)
	}
	res.Latency = time.Since(res.Start)
	if err != nil {
		res.Indeterminate = true
		res.Outcome, res.Reason, res.ServedBy = "", "", outcome.ServedBy{}
		return res, fmt.Errorf("%w: read %s response%s: %w", ErrTransport, call.Path, c.at(base), err)
	}
	r.finish(resp)
	return res, nil
}

// isEventStream reports whether the response is SSE.
func isEventStream(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mt == "text/event-stream"
}

// readPlain reads a non-streamed body: a completion on 2xx, the contract's error body otherwise.
func (r *recorder) readPlain(resp *http.Response) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return err
	}
	r.res.TTFT = time.Since(r.res.Start)
	if len(body) > maxBodyBytes {
		r.violate("body is over %d bytes", maxBodyBytes)
		r.facts.plainProblem = fmt.Sprintf("the body is over %d bytes", maxBodyBytes)
		return nil
	}
	if resp.StatusCode/100 == 2 {
		var cr openai.CompletionResponse
		if err := json.Unmarshal(body, &cr); err != nil {
			r.violate("%d body is not a completion: %v", resp.StatusCode, err)
			r.facts.plainProblem = fmt.Sprintf("the body is not a completion: %v", err)
			return nil
		}
		r.facts.plainProblem, r.facts.finishReason = completeness(cr)
		r.res.Usage, r.res.FinishReason = cr.Usage, r.facts.finishReason
		if len(cr.Choices) > 0 {
			switch ch := cr.Choices[0]; {
			case ch.Message != nil:
				r.res.Text, r.res.ToolCalls = ch.Message.Content, ch.Message.ToolCalls
			case ch.Text != nil:
				r.res.Text = *ch.Text
			}
		}
		if r.res.Text != "" {
			r.res.Tokens = 1
		}
		if cr.Outcome != nil {
			r.body = statementFromBody(cr.Outcome, "body", r.violate)
		}
		return nil
	}
	if r.infer {
		r.facts.errInfo, r.facts.hasErrInfo = parseErrorBody(body)
	}
	var eb openai.ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil || eb.Error == (openai.ErrorDetail{}) {
		if r.facts.hasErrInfo { // a peer's shape (TGI's, vLLM's numeric code): not our contract's
			e := r.facts.errInfo
			r.res.Error = &openai.ErrorDetail{Message: e.Message, Type: e.Type, Code: e.Code}
		}
		r.contract("%d body is not an OpenAI error body", resp.StatusCode)
		return nil
	}
	r.res.Error = &eb.Error
	if eb.Outcome == nil {
		r.contract("error body has no aruntime_outcome")
		return nil
	}
	r.body = statementFromBody(eb.Outcome, "error body", r.violate)
	return nil
}

// completeness says why a 2xx completion is not complete and well formed ("" when it is) and
// gives choice 0's finish_reason: a choice with a message or text and a finish_reason.
func completeness(cr openai.CompletionResponse) (problem, finish string) {
	switch {
	case len(cr.Choices) == 0:
		return "the completion has no choices", ""
	case cr.Choices[0].Message == nil && cr.Choices[0].Text == nil:
		return "choice 0 has neither a message nor a text", ""
	case cr.Choices[0].FinishReason == "":
		return "choice 0 has no finish_reason", ""
	}
	return "", cr.Choices[0].FinishReason
}
