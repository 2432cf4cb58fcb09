package router

import (
	"encoding/json"
	"testing"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/identity"
)

// TestPlanTool: the simulated model's tool decision, and the refusal of a runtime-side tool the
// tenant may not use, whatever tool the model would call.
func TestPlanTool(t *testing.T) {
	cfg := &config.Config{
		Tenants: []config.Tenant{{Name: "acme", Tools: []string{"lookup_order"}}, {Name: "initech"}},
		Tools:   config.Tools{Served: []string{"lookup_order"}},
	}
	r := &Router{cfg: cfg}
	fn := func(names ...string) []openai.Tool {
		var out []openai.Tool
		for _, n := range names {
			out = append(out, openai.Tool{Type: "function", Function: openai.ToolFunction{Name: n}})
		}
		return out
	}
	user := []openai.ChatMessage{{Role: "user", Content: "where is my order?"}}
	answered := append(append([]openai.ChatMessage{}, user...), openai.ChatMessage{Role: "tool", Content: "shipped"})
	tests := []struct {
		name, tenant, choice string
		tools                []openai.Tool
		msgs                 []openai.ChatMessage
		call                 string // the tool called; "" for none
		runtime              bool
		reason               outcome.Reason
	}{
		{"runtime-side tool", "acme", "", fn("lookup_order"), user, "lookup_order", true, ""},
		{"client-side tool", "acme", "", fn("get_weather"), user, "get_weather", false, ""},
		{"named choice", "acme", "lookup_order", fn("get_weather", "lookup_order"), user, "lookup_order", true, ""},
		{"choice none", "acme", "none", fn("lookup_order"), user, "", false, ""},
		{"tool result already there", "acme", "", fn("lookup_order"), answered, "", false, ""},
		{"not the tenant's tool", "initech", "", fn("get_weather", "lookup_order"), user, "", false, outcome.ReasonToolNotAllowed},
		{"not the tenant's tool, even with choice none", "initech", "none", fn("lookup_order"), user, "", false, outcome.ReasonToolNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := job{id: "req-1", principal: identity.Principal{Role: identity.RoleTenant, Tenant: tc.tenant},
				c: Completion{Chat: true, Tools: tc.tools, ToolChoice: tc.choice, Messages: tc.msgs, Prompt: "user: where is my order?\n"}}
			end := r.planTool(&j)
			if end.reason != tc.reason {
				t.Fatalf("reason %q, want %q", end.reason, tc.reason)
			}
			if tc.reason != "" && end.param == "" {
				t.Fatal("a refusal must name the field at fault")
			}
			switch {
			case tc.call == "" && j.tool != nil:
				t.Fatalf("planned a call of %s, want none", j.tool.call.Function.Name)
			case tc.call == "":
				return
			case j.tool == nil:
				t.Fatalf("planned no call, want %s", tc.call)
			}
			if j.tool.call.Function.Name != tc.call || j.tool.runtime != tc.runtime {
				t.Fatalf("planned %s (runtime %v), want %s (runtime %v)", j.tool.call.Function.Name, j.tool.runtime, tc.call, tc.runtime)
			}
			var args map[string]any
			if err := json.Unmarshal([]byte(j.tool.call.Function.Arguments), &args); err != nil || len(args) == 0 {
				t.Fatalf("arguments %q are not a JSON object: %v", j.tool.call.Function.Arguments, err)
			}
		})
	}
}

// TestDropToolsDefect: the negative control's router answers as if no tool had been offered.
func TestDropToolsDefect(t *testing.T) {
	r := &Router{cfg: &config.Config{Tools: config.Tools{Served: []string{"lookup_order"}}}, defects: Defects{Tools: ToolDefects{DropTools: true}}}
	j := job{c: Completion{Chat: true, Tools: []openai.Tool{{Type: "function", Function: openai.ToolFunction{Name: "get_weather"}}}}}
	if end := r.planTool(&j); end.reason != "" || j.tool != nil {
		t.Fatalf("the defect planned %+v (%s)", j.tool, end.reason)
	}
}
