package router

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// Tool choices a request may make besides naming one tool.
const (
	toolChoiceAuto     = "auto"
	toolChoiceNone     = "none"
	toolChoiceRequired = "required"
)

// decodeTools reads a chat request's tools and tool_choice into c. Every tool is a function tool
// with a name, named once; the choice is none, auto, required or one of the tools. Anything else
// is refused by field, because serving the request without the tool it asked for would answer
// another request than the one sent.
func (c *Completion) decodeTools(req openai.CompletionRequest) *Refusal {
	if !asksNoTools("tools", req.Tools) {
		if !c.Chat {
			return refuse(outcome.ReasonInvalidRequest, "tools", "tools belong to /v1/chat/completions")
		}
		if err := json.Unmarshal(req.Tools, &c.Tools); err != nil {
			return refuse(outcome.ReasonInvalidRequest, "tools", "tools: expected a list of {\"type\":\"function\",\"function\":{\"name\":...}}: %v", err)
		}
		seen := map[string]bool{}
		for i, t := range c.Tools {
			switch {
			case t.Type != "function":
				return refuse(outcome.ReasonInvalidRequest, fmt.Sprintf("tools[%d].type", i), "tools[%d].type is %q; only function tools exist", i, t.Type)
			case t.Function.Name == "":
				return refuse(outcome.ReasonInvalidRequest, fmt.Sprintf("tools[%d].function.name", i), "tools[%d].function.name is required", i)
			case !toolName.MatchString(t.Function.Name):
				return refuse(outcome.ReasonInvalidRequest, fmt.Sprintf("tools[%d].function.name", i), "tools[%d].function.name %q must be 1 to 64 letters, digits, _ or -", i, t.Function.Name)
			case !isObjectOrAbsent(t.Function.Parameters):
				return refuse(outcome.ReasonInvalidRequest, fmt.Sprintf("tools[%d].function.parameters", i), "tools[%d].function.parameters must be a JSON Schema object", i)
			case seen[t.Function.Name]:
				return refuse(outcome.ReasonInvalidRequest, fmt.Sprintf("tools[%d].function.name", i), "tool %q is listed twice", t.Function.Name)
			}
			seen[t.Function.Name] = true
		}
	}
	return c.decodeToolChoice(req.ToolChoice)
}

// toolName is OpenAI's rule for a function's name. A name is echoed back in tool_calls, logged,
// traced and listed in evidence, so nothing else (no spaces, no control characters) gets in.
var toolName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// isObjectOrAbsent reports whether a decoded parameters value is a JSON object or not given.
func isObjectOrAbsent(v any) bool {
	if v == nil {
		return true
	}
	_, ok := v.(map[string]any)
	return ok
}

// decodeToolChoice reads tool_choice: a string, or {"type":"function","function":{"name":N}}
// naming a listed tool.
func (c *Completion) decodeToolChoice(v json.RawMessage) *Refusal {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		switch {
		case s == toolChoiceNone || s == toolChoiceAuto:
			c.ToolChoice = s
			return nil
		case s == toolChoiceRequired && len(c.Tools) > 0:
			c.ToolChoice = s
			return nil
		case s == toolChoiceRequired:
			return refuse(outcome.ReasonInvalidRequest, "tool_choice", "tool_choice is required but tools lists none")
		}
		return refuse(outcome.ReasonInvalidRequest, "tool_choice", "tool_choice %q is not none, auto, required or a named function", s)
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(v, &named); err != nil || named.Type != "function" {
		return refuse(outcome.ReasonInvalidRequest, "tool_choice", "tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}}")
	}
	for _, t := range c.Tools {
		if t.Function.Name == named.Function.Name {
			c.ToolChoice = named.Function.Name
			return nil
		}
	}
	return refuse(outcome.ReasonInvalidRequest, "tool_choice.function.name", "tool_choice names %q, which tools does not list", named.Function.Name)
}
