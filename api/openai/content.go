package openai

import (
	"encoding/json"
	"fmt"
	"strings"
)

// contentPart is one element of the array form of a message's content. Only text parts exist in
// this contract; an image or audio part is refused rather than silently dropped.
type contentPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// UnmarshalJSON accepts a message's content as a string or as OpenAI's array of text parts (which
// some SDKs send), joining the parts. Any other part type is an error that names it.
func (m *ChatMessage) UnmarshalJSON(data []byte) error {
	var wire struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCalls  []ToolCall      `json:"tool_calls"`
		ToolCallID string          `json:"tool_call_id"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	m.Role, m.ToolCalls, m.ToolCallID = wire.Role, wire.ToolCalls, wire.ToolCallID
	m.Content = ""
	raw := strings.TrimSpace(string(wire.Content))
	switch {
	case raw == "" || raw == "null":
		return nil
	case raw[0] == '"':
		if err := json.Unmarshal(wire.Content, &m.Content); err != nil {
			return &FieldError{Field: "content", Message: "expected a string"}
		}
		return nil
	case raw[0] == '[':
		var parts []contentPart
		if err := json.Unmarshal(wire.Content, &parts); err != nil {
			return &FieldError{Field: "content", Message: "expected a string or an array of {\"type\": \"text\", \"text\": …} parts"}
		}
		var b strings.Builder
		for i, p := range parts {
			if p.Type != "text" {
				return &FieldError{Field: fmt.Sprintf("content[%d].type", i), Message: fmt.Sprintf("part type %q is not supported, only \"text\"", p.Type)}
			}
			b.WriteString(p.Text)
		}
		m.Content = b.String()
		return nil
	default:
		return &FieldError{Field: "content", Message: "expected a string or an array of text parts"}
	}
}
