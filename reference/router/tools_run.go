package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/fallback"
	"github.com/aruntime/arcert/reference/tokenizer"
	"github.com/aruntime/arcert/reference/tooladapter"
)

// runTool executes j's runtime-side tool call through the adapter and appends its result to the
// conversation, so generation continues with it. The adapter is asked with the router's workload
// credential and the tenant context bound at admission (tenant, application, user, request id);
// the tenant's key never leaves the front door. A call the adapter cannot complete ends the
// request tool_unavailable: there is no other route to the tool, least of all one with wider
// authority.
func (r *Router) runTool(ctx context.Context, j *job) ending {
	run := j.tool
	var args map[string]any
	_ = json.Unmarshal([]byte(run.call.Function.Arguments), &args) // toolArguments made them
	req := tooladapter.CallRequest{RequestID: j.id, Tenant: j.principal.Tenant, Application: j.principal.Application,
		User: j.principal.User, Tool: run.call.Function.Name, Arguments: args}
	if r.defects.Tools.ClientUser && j.c.ClientUser != "" {
		req.User = j.c.ClientUser
	}
	cctx, cancel := context.WithTimeout(ctx, r.cfg.Tools.Timeout())
	defer cancel()
	// The tool call is a span of the request's trace, with the tenant it acted for.
	cctx, span := tracer.Start(cctx, "aruntime.tool")
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attrTool.String(req.Tool), attrTenant.String(req.Tenant), attrRequestID.String(req.RequestID))
	}
	var res tooladapter.CallResult
	err := fmt.Errorf("%w: no tool adapter is configured", tooladapter.ErrUnavailable)
	if r.tools != nil {
		res, err = r.tools.Call(cctx, req)
	}
	if err != nil && r.defects.Tools.FallbackDirect && len(r.cfg.Operators) > 0 {
		res, err = tooladapter.CallMCP(cctx, r.cfg.Tools.ServerURL, r.cfg.Operators[0].Key, req, nil)
	}
	ev := discovery.ToolCall{ID: run.call.ID, Name: run.call.Function.Name, Side: toolSideRuntime, Outcome: toolCallOK}
	defer func() {
		if span.IsRecording() {
			span.SetAttributes(attrToolOutcome.String(ev.Outcome))
		}
	}()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		ev.Outcome = toolCallUnavailable
		run.calls = append(run.calls, ev)
		return refused(outcome.ReasonDeadline, "the deadline passed while the tool "+ev.Name+" ran")
	case errors.Is(ctx.Err(), context.Canceled):
		ev.Outcome = toolCallUnavailable
		run.calls = append(run.calls, ev)
		return refused(outcome.ReasonClientCancelled, "the caller went away while the tool "+ev.Name+" ran")
	case err != nil:
		ev.Outcome = toolCallUnavailable
		run.calls = append(run.calls, ev)
		// The detail (the adapter's address, a dial error) is the operator's, in the log; the
		// tenant learns which tool failed and how the request ended.
		r.log.Warn("tool call failed", "request_id", j.id, "tool", ev.Name, "err", err)
		return refused(outcome.ReasonToolUnavailable, "the tool "+ev.Name+" is unavailable")
	case res.IsError:
		ev.Outcome = toolCallError // the model reads the tool's error like any result
	}
	run.calls = append(run.calls, ev)
	if r.defects.Tools.DiscardResult {
		return ending{}
	}
	call := openai.ChatMessage{Role: "assistant", ToolCalls: []openai.ToolCall{run.call}}
	result := openai.ChatMessage{Role: "tool", ToolCallID: run.call.ID, Content: res.Text}
	j.c.Messages = append(append(j.c.Messages, call), result)
	j.c.Prompt += "assistant: call " + run.call.Function.Name + run.call.Function.Arguments + "\ntool: " + res.Text + "\n"
	// The prompt generation reads, bills and records now holds the result: count it again, and
	// refuse a result that leaves no room for the output the request asked for.
	j.c.PromptTokens = tokenizer.Count(j.c.Prompt)
	if m := j.c.Model; m.ContextLength > 0 && j.c.PromptTokens+j.c.MaxTokens > m.ContextLength {
		return refused(outcome.ReasonContextLengthExceeded, fmt.Sprintf("the result of the tool %s makes the prompt %d tokens; with max_tokens %d it no longer fits model %q's context of %d",
			ev.Name, j.c.PromptTokens, j.c.MaxTokens, m.Name, m.ContextLength))
	}
	return ending{}
}

// returnToolCall answers j with its client-side tool call: the response carries tool_calls and
// finish_reason tool_calls, and the client executes the function. It is served by the place the
// plan chose, where the model's decision is taken.
func (r *Router) returnToolCall(j *job, d fallback.Decision, em emitter) ending {
	run := j.tool
	end := ending{class: d.Class, reason: d.Reason, model: d.Place.Model, finish: openai.FinishToolCalls, reported: true,
		servedBy:  outcome.ServedBy{Region: d.Place.Region, Pool: d.Place.Pool, Provider: config.LocalProvider, Deployment: r.cfg.Runtime.Deployment},
		toolCalls: []openai.ToolCall{run.call}, usage: tokenUsage{Prompt: int64(j.c.PromptTokens)}}
	if d.Place.Kind == fallback.KindProvider {
		end.servedBy.Provider = d.Place.Provider
	}
	run.calls = append(run.calls, discovery.ToolCall{ID: run.call.ID, Name: run.call.Function.Name, Side: toolSideClient, Outcome: toolCallReturned})
	end.started = true
	if err := em.start(end); err != nil {
		return clientGone(end, err)
	}
	return end
}

// toolEvidence is what a record lists of j's tool calls.
func toolEvidence(j job) []discovery.ToolCall {
	if j.tool == nil {
		return nil
	}
	return j.tool.calls
}

// serve is execute up to the usage: the tool plan first (a runtime-side tool the tenant may not
// use is refused before quota or a slot is taken), then the request, with the evidence of its
// tool calls on its ending.
func (r *Router) serve(ctx context.Context, j job, em emitter) ending {
	if end := r.planTool(&j); end.reason != "" {
		return end
	}
	end := r.serveRequest(ctx, j, em)
	if !r.defects.Tools.Unrecorded {
		end.tools = toolEvidence(j)
	}
	return end
}

// toolStep runs j's tool call once it is admitted: a client-side call is the answer (done), a
// runtime-side one is executed and generation goes on unless it failed.
func (r *Router) toolStep(ctx context.Context, j *job, em emitter) (ending, bool) {
	if j.tool == nil {
		return ending{}, false
	}
	if !j.tool.runtime {
		d, end := r.plan(*j)
		if end.reason != "" {
			return end, true
		}
		return r.returnToolCall(j, d, em), true
	}
	end := r.runTool(ctx, j)
	return end, end.reason != ""
}

// indexed numbers tool calls for a streamed delta, which OpenAI's clients assemble by index.
func indexed(calls []openai.ToolCall) []openai.ToolCall {
	out := make([]openai.ToolCall, len(calls))
	for i, c := range calls {
		c.Index = &i
		out[i] = c
	}
	return out
}

// The attributes of an aruntime.tool span.
var (
	attrTool        = attribute.Key("aruntime.tool")
	attrToolOutcome = attribute.Key("aruntime.tool_outcome")
)
