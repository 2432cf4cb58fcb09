package router

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// ToolDefects are the router's bugs of tool calling, for the harness's negative controls.
type ToolDefects struct {
	// DropTools ignores a request's tools and answers it as plain text.
	DropTools bool
	// FallbackDirect, when the tool adapter cannot execute a call, calls the tool server
	// directly (its upstream address, past the cut link) with the operator's key.
	FallbackDirect bool
	// Unrecorded leaves tool calls out of the evidence record.
	Unrecorded bool
	// ClientUser fills the tool context's user from the body's `user` label, which the client
	// chooses, instead of the user bound to the key at admission.
	ClientUser bool
	// DiscardResult calls the tool but generates as if it had not: its result is never appended
	// to the conversation.
	DiscardResult bool
}

// toolRun is a request's tool call as the simulated model decided it, and what became of it. It
// is shared by pointer between execute and the evidence record.
type toolRun struct {
	call openai.ToolCall
	// runtime is set for a runtime-side tool, which the adapter executes; otherwise the call goes
	// back to the client as tool_calls.
	runtime bool
	// calls are the evidence of the calls made.
	calls []discovery.ToolCall
}

// The sides and outcomes of discovery.ToolCall.
const (
	toolSideRuntime     = "runtime"
	toolSideClient      = "client"
	toolCallOK          = "ok"
	toolCallError       = "tool_error"
	toolCallUnavailable = "unavailable"
	toolCallReturned    = "returned"
)

// planTool is the simulated model's tool decision for j, deterministic so that two runs of the
// same request agree: with tools offered and a choice other than none, a conversation whose last
// message is not already a tool's result calls the chosen tool (the named one, else the first
// listed). A runtime-side tool the tenant may not use refuses the whole request with
// tool_not_allowed, whichever tool the model would call: the tenant asked for it.
func (r *Router) planTool(j *job) ending {
	c := &j.c
	for i, t := range c.Tools {
		if r.servesTool(t.Function.Name) && !r.cfg.TenantMayUse(j.principal.Tenant, t.Function.Name) {
			e := refused(outcome.ReasonToolNotAllowed, fmt.Sprintf("tenant %s may not use the runtime-side tool %q", j.principal.Tenant, t.Function.Name))
			e.param = fmt.Sprintf("tools[%d].function.name", i)
			return e
		}
	}
	if len(c.Tools) == 0 || c.ToolChoice == toolChoiceNone || r.defects.Tools.DropTools {
		return ending{}
	}
	if n := len(c.Messages); n > 0 && c.Messages[n-1].Role == "tool" {
		return ending{} // the model answers with the tool's result
	}
	name := c.Tools[0].Function.Name
	if i := slices.IndexFunc(c.Tools, func(t openai.Tool) bool { return t.Function.Name == c.ToolChoice }); i >= 0 {
		name = c.Tools[i].Function.Name
	}
	run := &toolRun{runtime: r.servesTool(name)}
	run.call = openai.ToolCall{ID: "call_" + strings.TrimPrefix(j.id, "req-"), Type: "function",
		Function: openai.FunctionCall{Name: name, Arguments: toolArguments(name, c.Prompt)}}
	j.tool = run
	return ending{}
}

// servesTool reports whether name is a runtime-side tool of this runtime.
func (r *Router) servesTool(name string) bool {
	return slices.Contains(r.cfg.Tools.Served, name)
}

// toolArguments are the simulated model's arguments for a call of name: an order id drawn from
// the prompt for lookup_order, else the last line of the prompt as a query.
func toolArguments(name, prompt string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(prompt)) // hash.Hash's Write never fails
	if name == "lookup_order" {
		return `{"order_id":"ord-` + strconv.FormatUint(uint64(h.Sum32()%100000), 10) + `"}`
	}
	lines := strings.Split(strings.TrimSpace(prompt), "\n")
	b, _ := json.Marshal(map[string]string{"query": lines[len(lines)-1]}) // a string map always marshals
	return string(b)
}
