package suites

import (
	"context"
	"net/http"
	"time"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// outcomeCall is one completion an outcome spec sends: as whom, on which endpoint and transport,
// in which traffic class, with what body.
type outcomeCall struct {
	what      string
	tenant    target.Tenant // its Key may be replaced by key
	key       string        // overrides tenant.Key when set (a wrong or missing credential)
	endpoint  string        // driver.PathChatCompletions or driver.PathCompletions; HTTP only
	transport string        // pathHTTP, pathHTTPStream or pathGRPC
	class     string        // traffic class; empty is the credential's default
	body      openai.CompletionRequest
	// noKey sends no credential at all.
	noKey bool
}

func (c outcomeCall) credential() string {
	switch {
	case c.noKey:
		return ""
	case c.key != "":
		return c.key
	}
	return c.tenant.Key
}

// callOutcome sends c and waits at most wait for its answer; a call the runtime does not answer
// by then is recorded as abandoned.
func callOutcome(ctx context.Context, c outcomeCall, wait time.Duration) outcomeSample {
	s := callOutcomeOnce(ctx, c, wait)
	s.deadline = classDeadline(c.class, c.tenant)
	return s
}

// callServed is callOutcome for a call that must be served, sent once the tenant's own quota
// allows it: an earlier spec may have spent the smallest quota, and a refusal for that would say
// nothing about the outcome this spec judges.
func callServed(ctx context.Context, c outcomeCall, wait time.Duration) outcomeSample {
	awaitAllowance(ctx, c.tenant, 1, servedReservation(c.body))
	return callOutcome(ctx, c, wait)
}

// servedReservation over-estimates the tokens body reserves against a quota.
func servedReservation(body openai.CompletionRequest) int {
	n := 0
	if body.MaxTokens != nil {
		n = int(*body.MaxTokens)
	}
	if body.Prompt != nil {
		n += len(*body.Prompt)
	}
	for _, m := range body.Messages {
		n += len(m.Content)
	}
	return n
}

// classDeadline is the deadline of the class a call asks for, else of the tenant's default.
func classDeadline(class string, t target.Tenant) time.Duration {
	for _, k := range env.Target.TrafficClasses {
		if k.Name == class {
			return k.Deadline
		}
	}
	return tenantClass(t).Deadline
}

func callOutcomeOnce(ctx context.Context, c outcomeCall, wait time.Duration) outcomeSample {
	cctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	started := time.Now()
	if c.transport == pathGRPC {
		res, err := env.GRPC.Complete(cctx, c.credential(), grpcRequest(c.body, c.class))
		return abandon(grpcSample(c.what, c.tenant.Name, res, err), ctx, cctx, started)
	}
	body := c.body
	body.Stream = c.transport == pathHTTPStream
	var hdr http.Header
	if c.class != "" {
		hdr = http.Header{outcome.HeaderTrafficClass: {c.class}}
	}
	if c.noKey {
		// An empty Authorization replaces the driver's own; the runtime sees no credential.
		hdr = mergeHeader(hdr, http.Header{"Authorization": {""}})
	}
	endpoint := c.endpoint
	if endpoint == "" {
		endpoint = driver.PathChatCompletions
	}
	body = asEndpoint(endpoint, body)
	res, err := env.HTTP.Do(cctx, driver.Call{Path: endpoint, Key: c.credential(), Body: body, Header: hdr})
	return abandon(httpSample(c.what, c.tenant.Name, body.Stream, res, err), ctx, cctx, started)
}

func mergeHeader(a, b http.Header) http.Header {
	out := http.Header{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// grpcRequest is body as a CompleteRequest of arcert.v1.Inference.
func grpcRequest(body openai.CompletionRequest, class string) *arcertv1.CompleteRequest {
	req := &arcertv1.CompleteRequest{Model: body.Model, TrafficClass: class, User: body.User, CacheSalt: body.CacheSalt, Seed: body.Seed}
	if body.MaxTokens != nil {
		req.MaxTokens = *body.MaxTokens
	}
	if body.Prompt != nil {
		req.Prompt = *body.Prompt
	}
	for _, m := range body.Messages {
		req.Messages = append(req.Messages, &arcertv1.ChatMessage{Role: m.Role, Content: m.Content})
	}
	return req
}

// noGRPC explains, for a target without a gRPC endpoint, why path was not probed.
func noGRPC(path string) {
	if env.GRPC == nil {
		notProbed(path, "the target declares no gRPC endpoint")
	}
}

// noBatches explains, for a target that runs no batch queue, why the batch API was not probed.
func noBatches() {
	if !env.Target.Declares("queue") {
		notProbed(pathBatch, "the target declares no batch queue (feature queue)")
	}
}

// outcomeTransports are the transports the target serves completions on: HTTP plain and
// streamed, and gRPC when it declares an endpoint.
func outcomeTransports() []string {
	if env.GRPC == nil {
		return []string{pathHTTP, pathHTTPStream}
	}
	return []string{pathHTTP, pathHTTPStream, pathGRPC}
}

// withModel is body asking for another model.
func withModel(body openai.CompletionRequest, model string) openai.CompletionRequest {
	body.Model = model
	return body
}

// classHeader asks for traffic class name.
func classHeader(name string) http.Header {
	return http.Header{outcome.HeaderTrafficClass: {name}}
}

// asEndpoint shapes a chat body for endpoint: the legacy completions endpoint takes the last
// message as its prompt.
func asEndpoint(endpoint string, body openai.CompletionRequest) openai.CompletionRequest {
	if endpoint == driver.PathCompletions && body.Prompt == nil && len(body.Messages) > 0 {
		p := body.Messages[len(body.Messages)-1].Content
		body.Prompt, body.Messages = &p, nil
	}
	return body
}
