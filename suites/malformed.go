package suites

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
)

// oversizeBody is the size of the body-too-large probe: far beyond any sensible request limit
// (the reference's default is 1 MiB), yet quick to send over loopback. The probe is a short,
// valid request padded with this much JSON whitespace, so nothing but its size can be refused:
// a 4 MiB prompt would also be over the context, and a runtime with no body limit would pass by
// refusing it for its length.
const oversizeBody = 4 << 20

// malformedCase is one bad request body: fields as JSON values, or raw bytes when the bytes
// themselves are the fault. Every case is sent plain and streamed, on the endpoints it names.
type malformedCase struct {
	what      string
	fields    map[string]any
	raw       string
	endpoints []string
	header    http.Header
	// pad is how many bytes of JSON whitespace go before the body's closing brace.
	pad int
	// reason is the one reason the input can be refused with, where only one fits; empty where
	// any rejection of the contract will do.
	reason outcome.Reason
}

// malformedCases are the contract's bad inputs: broken JSON, wrong types, missing and
// out-of-range fields, the wrong shape for the endpoint.
func malformedCases() []malformedCase {
	m := model()
	chat := []any{map[string]any{"role": "user", "content": "hi"}}
	both := []string{driver.PathChatCompletions, driver.PathCompletions}
	onChat := []string{driver.PathChatCompletions}
	onLegacy := []string{driver.PathCompletions}
	long := strings.Repeat("token ", m.ContextLength+1)
	cases := []malformedCase{
		{what: "malformed JSON", raw: `{"model": "` + m.Name + `", "max_tokens": 1,`, endpoints: both},
		{what: "a JSON array for a body", raw: `[1, 2, 3]`, endpoints: both},
		{what: "an empty body", raw: ``, endpoints: both},
		{what: "a body that is not UTF-8", raw: "{\"model\": \"" + m.Name + "\", \"max_tokens\": 1, \"prompt\": \"\xff\xfe\"}", endpoints: onLegacy},
		{what: "max_tokens as a string", fields: map[string]any{"model": m.Name, "max_tokens": "ten", "messages": chat}, endpoints: onChat},
		{what: "an unknown model", fields: map[string]any{"model": "arcert-no-such-model", "max_tokens": 1, "messages": chat}, endpoints: both},
		{what: "no model", fields: map[string]any{"max_tokens": 1, "messages": chat}, endpoints: both},
		{what: "no max_tokens", fields: map[string]any{"model": m.Name, "messages": chat}, endpoints: both},
		{what: "max_tokens 0", fields: map[string]any{"model": m.Name, "max_tokens": 0, "messages": chat}, endpoints: both},
		{what: "a negative max_tokens", fields: map[string]any{"model": m.Name, "max_tokens": -5, "messages": chat}, endpoints: both},
		{what: "max_tokens over the model's limit", fields: map[string]any{"model": m.Name, "max_tokens": m.MaxOutputTokens * 1000, "messages": chat}, endpoints: both},
		{what: "max_completion_tokens disagreeing with max_tokens", fields: map[string]any{"model": m.Name, "max_tokens": 2, "max_completion_tokens": 3, "messages": chat}, endpoints: onChat},
		{what: "a prompt over the context", fields: map[string]any{"model": m.Name, "max_tokens": 1, "messages": []any{map[string]any{"role": "user", "content": long}}}, endpoints: both},
		{what: "no messages", fields: map[string]any{"model": m.Name, "max_tokens": 1}, endpoints: both},
		{what: "an empty message list", fields: map[string]any{"model": m.Name, "max_tokens": 1, "messages": []any{}}, endpoints: onChat},
		{what: "only empty messages", fields: map[string]any{"model": m.Name, "max_tokens": 1, "messages": []any{map[string]any{"role": "user", "content": "  "}}}, endpoints: onChat},
		{what: "an unknown role", fields: map[string]any{"model": m.Name, "max_tokens": 1, "messages": []any{map[string]any{"role": "wizard", "content": "hi"}}}, endpoints: onChat},
		{what: "a blank prompt", fields: map[string]any{"model": m.Name, "max_tokens": 1, "prompt": "   "}, endpoints: onLegacy},
		{what: "a short request padded with 4 MiB of whitespace, over the size limit", fields: map[string]any{"model": m.Name, "max_tokens": 1, "messages": chat}, pad: oversizeBody, reason: outcome.ReasonBodyTooLarge, endpoints: both},
	}
	if env.Target.Declares("tools") {
		fn := func(f map[string]any) []any { return []any{map[string]any{"type": "function", "function": f}} }
		cases = append(cases,
			malformedCase{what: "a tool name with a space", fields: map[string]any{"model": m.Name, "max_tokens": 1, "messages": chat, "tools": fn(map[string]any{"name": "look up"})}, endpoints: onChat},
			malformedCase{what: "tool parameters that are not an object", fields: map[string]any{"model": m.Name, "max_tokens": 1, "messages": chat, "tools": fn(map[string]any{"name": "f", "parameters": "any"})}, endpoints: onChat})
	}
	return cases
}

// rejectWait bounds how long the harness waits for bad input to be refused. A refusal comes
// before any work, so it needs no class deadline; a runtime still busy with bad input after this
// long has taken it as work (Ollama, given no max_tokens, generates until it is stopped), which
// is not a rejection, and waiting out a long or unstated deadline per case would prove nothing more.
const rejectWait = 10 * time.Second

// rejectPatience is how long one bad input may take to be refused: the class's patience, at most
// rejectWait.
func rejectPatience() time.Duration {
	return min(patience(env.Target.TrafficClasses[0].Deadline), rejectWait)
}

// sendMalformed sends every malformed case on each of its endpoints, plain and streamed, over
// HTTP, and the bad inputs a CompleteRequest can carry over gRPC.
func sendMalformed(ctx context.Context) ([]outcomeSample, string) {
	a := tenantA()
	var out []outcomeSample
	taken := 0
	for _, c := range malformedCases() {
		if taken >= malformedTakenLimit {
			// Each bad input the runtime takes as work costs rejectWait: the finding is made.
			return out, fmt.Sprintf("the runtime took %d bad requests as work (served, or still busy after %s), so the %d bad inputs after them were not sent",
				taken, rejectWait, len(malformedCases())-countCases(out))
		}
		for _, ep := range c.endpoints {
			for _, stream := range []bool{false, true} {
				raw := []byte(c.raw)
				if c.fields != nil {
					f := map[string]any{}
					for k, v := range c.fields {
						f[k] = v
					}
					if ep == driver.PathCompletions {
						if msgs, ok := f["messages"].([]any); ok && len(msgs) == 1 {
							f["prompt"] = msgs[0].(map[string]any)["content"]
							delete(f, "messages")
						}
					}
					if stream {
						f["stream"] = true
					}
					raw, _ = json.Marshal(f) // maps of JSON values always encode
					raw = padJSON(raw, c.pad)
				} else if stream {
					continue // raw bytes are their own fault; they cannot also ask to stream
				}
				what := fmt.Sprintf("%s on %s", c.what, ep)
				got := rawHTTP(ctx, what, a.Name, ep, a.Key, raw, stream, c.header)
				got.mustReason = c.reason
				if got.abandoned || (got.answered() && got.class.Served()) {
					taken++
				}
				out = append(out, got)
			}
		}
	}
	if env.GRPC == nil {
		return out, ""
	}
	m := model()
	msg := []*arcertv1.ChatMessage{{Role: "user", Content: "hi"}}
	long := strings.Repeat("token ", m.ContextLength+1)
	grpcCases := []struct {
		what string
		req  *arcertv1.CompleteRequest
	}{
		{"an unknown model", &arcertv1.CompleteRequest{Model: "arcert-no-such-model", Messages: msg, MaxTokens: 1}},
		{"no model", &arcertv1.CompleteRequest{Messages: msg, MaxTokens: 1}},
		{"no max_tokens", &arcertv1.CompleteRequest{Model: m.Name, Messages: msg}},
		{"a negative max_tokens", &arcertv1.CompleteRequest{Model: m.Name, Messages: msg, MaxTokens: -5}},
		{"max_tokens over the model's limit", &arcertv1.CompleteRequest{Model: m.Name, Messages: msg, MaxTokens: int64(m.MaxOutputTokens) * 1000}},
		{"a prompt over the context", &arcertv1.CompleteRequest{Model: m.Name, Prompt: long, MaxTokens: 1}},
		{"neither messages nor prompt", &arcertv1.CompleteRequest{Model: m.Name, MaxTokens: 1}},
		{"a blank prompt", &arcertv1.CompleteRequest{Model: m.Name, Prompt: "   ", MaxTokens: 1}},
		{"an unknown role", &arcertv1.CompleteRequest{Model: m.Name, Messages: []*arcertv1.ChatMessage{{Role: "wizard", Content: "hi"}}, MaxTokens: 1}},
	}
	for _, c := range grpcCases {
		cctx, cancel := context.WithTimeout(ctx, rejectPatience())
		started := time.Now()
		res, err := env.GRPC.Complete(cctx, a.Key, c.req)
		s := abandon(grpcSample(c.what, a.Name, res, err), ctx, cctx, started)
		s.deadline = tenantClass(a).Deadline
		out = append(out, s)
		cancel()
	}
	return out, ""
}

// padJSON puts n bytes of JSON whitespace before an object's closing brace: the same request,
// n bytes longer.
func padJSON(obj []byte, n int) []byte {
	if n <= 0 || len(obj) == 0 {
		return obj
	}
	last := len(obj) - 1
	out := make([]byte, 0, len(obj)+n)
	out = append(out, obj[:last]...)
	out = append(out, bytes.Repeat([]byte{' '}, n)...)
	return append(out, obj[last:]...)
}

// malformedTakenLimit is how many bad inputs a runtime may take as work before the rest are not
// sent: OUT-5 has failed by then, and each one costs rejectWait.
const malformedTakenLimit = 3

// countCases is how many distinct malformed cases the samples cover (each case is sent on several
// endpoints, plain and streamed).
func countCases(samples []outcomeSample) int {
	seen := map[string]bool{}
	for _, s := range samples {
		what, _, _ := strings.Cut(s.what, " on /")
		seen[what] = true
	}
	return len(seen)
}

// rawHTTP posts raw bytes to a completion endpoint and reads the outcome from the response
// headers, where a request refused before any work states it.
func rawHTTP(ctx context.Context, what, tenant, endpoint, key string, raw []byte, stream bool, hdr http.Header) outcomeSample {
	s := outcomeSample{transport: pathHTTP, what: what, tenant: tenant, deadline: tenantClass(tenantA()).Deadline}
	if stream {
		s.transport = pathHTTPStream
	}
	cctx, cancel := context.WithTimeout(ctx, rejectPatience())
	defer cancel()
	started := time.Now()
	if env.Target.OutcomesInferred() {
		// A runtime that states no outcome: the driver infers the refusal from its status and
		// error body, as for every other response of such a runtime.
		res, err := env.HTTP.Do(cctx, driver.Call{Path: endpoint, Key: key, Raw: raw, Stream: stream, Header: hdr})
		s = httpSample(what, tenant, stream, res, err)
		s.deadline = tenantClass(tenantA()).Deadline
		if err != nil {
			return abandon(s, ctx, cctx, started)
		}
		return s
	}
	status, h, err := env.HTTP.PostJSON(cctx, endpoint, key, raw, hdr, nil)
	s.latency = time.Since(started)
	if err != nil {
		s.failed = err
		return abandon(s, ctx, cctx, started)
	}
	s.status = status
	s.requestID, s.class, s.reason, s.servedBy, s.violations = headerStatement(h)
	return s
}

// headerStatement reads and checks the outcome a response's headers state: a request id, a
// class, a reason of that class from the closed enum, and where a served answer was served.
func headerStatement(h http.Header) (id string, class outcome.Class, reason outcome.Reason, sb outcome.ServedBy, violations []string) {
	violate := func(format string, args ...any) { violations = append(violations, fmt.Sprintf(format, args...)) }
	id = h.Get(outcome.HeaderRequestID)
	if id == "" {
		violate("missing %s header", outcome.HeaderRequestID)
	}
	class = outcome.Class(strings.TrimSpace(h.Get(outcome.HeaderOutcome)))
	if !class.Valid() {
		violate("%s is %q, not a class of the contract", outcome.HeaderOutcome, class)
	}
	rawReason := h.Get(outcome.HeaderReason)
	reason = outcome.Reason(strings.TrimSpace(rawReason))
	switch r, err := outcome.ParseReason(rawReason); {
	case rawReason == "":
		violate("missing %s header", outcome.HeaderReason)
	case err != nil:
		violate("%s %q is not in the contract", outcome.HeaderReason, rawReason)
	case class.Valid() && r.Class() != class:
		violate("reason %q belongs to class %q, not %q", r, r.Class(), class)
	}
	if v := h.Get(outcome.HeaderServedBy); v != "" {
		var err error
		if sb, err = outcome.ParseServedBy(v); err != nil {
			violate("%v", err)
		}
	}
	return id, class, reason, sb, violations
}
