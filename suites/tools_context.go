package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// toolSent is one TOOL-1 probe: a tool request and its twin with tool_choice "none" (the same
// conversation, the tool forbidden), both as tenant on path.
type toolSent struct {
	tenant, path string
	tool, none   driver.Result
}

// spoofedUser is the body's `user` label a TOOL-1 probe of t sends: it names another tenant, so
// a runtime that fills the tool context from what the client wrote shows it.
func spoofedUser(t target.Tenant) (user string, hdr http.Header) {
	other := t.Name + "-other"
	for _, o := range env.Target.Tenants {
		if o.Name != t.Name {
			other = o.Name
			break
		}
	}
	hdr = http.Header{}
	hdr.Set("X-Tenant-ID", other)
	hdr.Set("X-User-ID", "spoofed-"+other)
	return "spoofed-" + other, hdr
}

// sendToolProbes sends every tool-using tenant's probes at once, so a runtime that keeps one
// tool principal across concurrent requests mixes them up where the records can show it. Each
// probe carries a spoofed user label and tenant header; its twin asks for no tool.
func sendToolProbes(ctx context.Context, prompts func() string) []toolSent {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		out []toolSent
	)
	for _, t := range env.Target.Tenants {
		tool := runtimeToolOf(t)
		if tool == "" {
			continue
		}
		for _, path := range []string{"http", "http-stream"} {
			for range toolProbes {
				body := toolProbe(prompts(), path == "http-stream", tool)
				user, hdr := spoofedUser(t)
				body.User = user
				none := body
				none.ToolChoice = json.RawMessage(`"none"`)
				wg.Go(func() {
					defer GinkgoRecover() // send fails the spec on a transport error
					s := toolSent{tenant: t.Name, path: path, tool: send(ctx, t.Key, body, hdr)}
					s.none = send(ctx, t.Key, none, hdr)
					mu.Lock()
					defer mu.Unlock()
					out = append(out, s)
				})
			}
		}
	}
	wg.Wait()
	return out
}

// judgeNone checks a tool_choice "none" request naming a runtime-side tool: it is served as
// text, with no tool call handed back and none made.
func judgeNone(s toolSent, byID map[string][]toolRecord) []string {
	n := s.none
	switch {
	case !n.Outcome.Served() || n.RequestID == "":
		return []string{fmt.Sprintf("tenant %s's %s request with tool_choice none was not served: %s", s.tenant, s.path, describe(n))}
	case len(n.ToolCalls) > 0 || n.FinishReason == openai.FinishToolCalls:
		return []string{fmt.Sprintf("request %s (tool_choice none): finish_reason %q with %d tool calls, want no tool call", n.RequestID, n.FinishReason, len(n.ToolCalls))}
	case len(byID[n.RequestID]) > 0:
		return []string{fmt.Sprintf("request %s (tool_choice none) reached the tool server %d times: the runtime called a tool it was told not to", n.RequestID, len(byID[n.RequestID]))}
	}
	return nil
}

// judgeResultUsed checks that generation read the tool's result: the tool request's prompt, as
// its usage counts it, must be longer than its twin's without the tool, by the call and the
// result appended to the conversation.
func judgeResultUsed(s toolSent) []string {
	withTool, without := s.tool.Usage.PromptTokens, s.none.Usage.PromptTokens
	if without <= 0 || withTool <= without {
		return []string{fmt.Sprintf("request %s (tenant %s, %s): usage.prompt_tokens %d with the tool, %d for the same conversation without it (%s); want more with the tool, whose result generation must read",
			s.tool.RequestID, s.tenant, s.path, withTool, without, s.none.RequestID)}
	}
	return nil
}

// judgeCallShape checks client-side tool calls as handed back: arguments a JSON object, and in
// a stream every delta carrying the index OpenAI's clients assemble calls by, the first delta of
// each call its id (arguments may come in pieces, joined by index).
func judgeCallShape(res driver.Result, stream bool) []string {
	var problems []string
	type call struct{ id, args string }
	calls := map[int]*call{}
	var order []int
	for i, c := range res.ToolCalls {
		at := i
		if stream {
			if c.Index == nil {
				problems = append(problems, fmt.Sprintf("request %s: streamed tool call delta %d has no index", res.RequestID, i))
				continue
			}
			at = *c.Index
		}
		if calls[at] == nil {
			calls[at] = &call{id: c.ID}
			order = append(order, at)
		}
		calls[at].args += c.Function.Arguments
	}
	for _, at := range order {
		c := calls[at]
		var args map[string]any
		if json.Unmarshal([]byte(c.args), &args) != nil || args == nil {
			problems = append(problems, fmt.Sprintf("request %s: tool call %d's arguments %q are not a JSON object", res.RequestID, at, c.args))
		}
		if c.id == "" {
			problems = append(problems, fmt.Sprintf("request %s: tool call %d carries no id", res.RequestID, at))
		}
	}
	return problems
}
