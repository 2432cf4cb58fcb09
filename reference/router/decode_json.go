package router

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// jsonRefusal turns encoding/json's errors into messages in JSON's words that name the offset or
// the field, never a Go type: `max_tokens: expected an integer, got a string`.
func jsonRefusal(body []byte, err error) *Refusal {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return refuse(outcome.ReasonInvalidRequest, "", "body: malformed JSON at byte %d: %v", syn.Offset, syn)
	}
	fe := openai.DescribeJSONError(err)
	if fe == nil {
		return refuse(outcome.ReasonInvalidRequest, "", "body: malformed request: %v", err)
	}
	if fe.Field == "messages" || strings.HasPrefix(fe.Field, "messages.") || strings.HasPrefix(fe.Field, "content") {
		if at := messageError(body); at != nil {
			fe = at
		}
	}
	return refuse(outcome.ReasonInvalidRequest, fe.Field, "%s", fe.Error())
}

// jsonMessage says what is wrong with a body encoding/json could not decode, in JSON's words.
func jsonMessage(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("body: malformed JSON at byte %d: %v", syn.Offset, syn)
	}
	if fe := openai.DescribeJSONError(err); fe != nil {
		return fe.Error()
	}
	return "body: " + err.Error()
}

// messageError finds the first message of body that does not decode and names it by its index,
// which encoding/json leaves out of its field paths: `messages[2].content: expected a string`.
func messageError(body []byte) *openai.FieldError {
	var wire struct {
		Messages []json.RawMessage `json:"messages"`
	}
	if json.Unmarshal(body, &wire) != nil {
		return nil
	}
	for i, raw := range wire.Messages {
		var m openai.ChatMessage
		err := json.Unmarshal(raw, &m)
		if err == nil {
			continue
		}
		fe := openai.DescribeJSONError(err)
		if fe == nil {
			return nil
		}
		field := fmt.Sprintf("messages[%d]", i)
		if fe.Field != "" {
			field += "." + fe.Field
		}
		return &openai.FieldError{Field: field, Message: fe.Message}
	}
	return nil
}

// toolFields are the request fields of OpenAI's tool and function calling, in the order a refusal
// names them.
var toolFields = []string{"functions", "function_call"}

// refuseTools refuses a request that uses the deprecated functions API (tools and tool_choice are
// served, tools_decode.go): serving the request without them would answer a different request
// than the one sent. A request that asks for none is served: null, an empty list (some client
// frameworks always send one), and a call of "none" or "auto".
func refuseTools(req openai.CompletionRequest) *Refusal {
	for i, v := range []json.RawMessage{req.Functions, req.FunctionCall} {
		f := toolFields[i]
		if asksNoTools(f, v) {
			continue
		}
		return refuse(outcome.ReasonInvalidRequest, f, "%s: the deprecated functions API is not supported by this runtime; send tools and tool_choice instead of %s", f, f)
	}
	return nil
}

// asksNoTools reports whether v, the value of tool field f, asks for no tool: absent, null, an
// empty list, or (for a choice) "none" or "auto". A choice is only asked of the tools listed, and
// a list that is not empty is refused in its own right.
func asksNoTools(f string, v json.RawMessage) bool {
	var compact bytes.Buffer
	if len(v) == 0 || json.Compact(&compact, v) != nil {
		return len(v) == 0
	}
	switch c := compact.String(); {
	case c == "null":
		return true
	case f == "tools" || f == "functions":
		return c == "[]"
	default: // tool_choice, function_call
		return c == `"none"` || c == `"auto"`
	}
}
