package router

import (
	"encoding/json"
	"testing"

	"github.com/aruntime/arcert/api/outcome"
)

// TestDecodeMessages pins the words of each refusal: the field it names and what it expected, in
// JSON's terms, never a Go type.
func TestDecodeMessages(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, body string
		reason     outcome.Reason
		param      string
		message    string
	}{
		{"array body", `[1, 2]`, outcome.ReasonInvalidRequest, "",
			"body: expected a JSON object, got an array"},
		{"string body", `"hi"`, outcome.ReasonInvalidRequest, "",
			"body: expected a JSON object, got a string"},
		{"max_tokens string", `{"model":"sim",` + msgs + `,"max_tokens":"4"}`, outcome.ReasonInvalidRequest, "max_tokens",
			"max_tokens: expected an integer, got a string"},
		{"max_tokens fraction", `{"model":"sim",` + msgs + `,"max_tokens":1.5}`, outcome.ReasonInvalidRequest, "max_tokens",
			"max_tokens: expected an integer, got 1.5"},
		{"stream string", `{"model":"sim",` + msgs + `,"max_tokens":4,"stream":"yes"}`, outcome.ReasonInvalidRequest, "stream",
			"stream: expected true or false, got a string"},
		{"nested field", `{"model":"sim",` + msgs + `,"max_tokens":4,"stream_options":{"include_usage":1}}`, outcome.ReasonInvalidRequest, "stream_options.include_usage",
			"stream_options.include_usage: expected true or false, got a number"},
		{"messages object", `{"model":"sim","messages":{"role":"user"},"max_tokens":4}`, outcome.ReasonInvalidRequest, "messages",
			"messages: expected a JSON array, got an object"},
		{"message a number", `{"model":"sim","messages":[{"role":"user","content":"hi"},7],"max_tokens":4}`, outcome.ReasonInvalidRequest, "messages[1]",
			"messages[1]: expected a JSON object, got a number"},
		{"role a number", `{"model":"sim","messages":[{"role":1,"content":"hi"}],"max_tokens":4}`, outcome.ReasonInvalidRequest, "messages[0].role",
			"messages[0].role: expected a string, got a number"},
		{"content a number", `{"model":"sim","messages":[{"role":"user","content":"a"},{"role":"user","content":5}],"max_tokens":4}`, outcome.ReasonInvalidRequest, "messages[1].content",
			"messages[1].content: expected a string or an array of text parts"},
		{"malformed", `{"model":"sim",`, outcome.ReasonInvalidRequest, "",
			"body: malformed JSON at byte 15: unexpected end of JSON input"},
		{"gzip", "\x1f\x8b\x08\x00\x00\x00\x00\x00", outcome.ReasonUnsupportedMediaType, "",
			"the body is gzip-compressed; this runtime reads plain JSON only (send it uncompressed)"},
		// Function tools are served (tools.go); what is not a function tool is refused by field.
		{"tools", `{"model":"sim",` + msgs + `,"max_tokens":4,"tools":[{"type":"function","function":{"name":"f"}}]}`, "", "", ""},
		{"tool not a function", `{"model":"sim",` + msgs + `,"max_tokens":4,"tools":[{"type":"retrieval"}]}`, outcome.ReasonInvalidRequest, "tools[0].type",
			`tools[0].type is "retrieval"; only function tools exist`},
		{"tool without a name", `{"model":"sim",` + msgs + `,"max_tokens":4,"tools":[{"type":"function","function":{}}]}`, outcome.ReasonInvalidRequest, "tools[0].function.name",
			"tools[0].function.name is required"},
		{"tool name with a space", `{"model":"sim",` + msgs + `,"max_tokens":4,"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"rm -rf"}}]}`, outcome.ReasonInvalidRequest, "tools[1].function.name",
			`tools[1].function.name "rm -rf" must be 1 to 64 letters, digits, _ or -`},
		{"tool name too long", `{"model":"sim",` + msgs + `,"max_tokens":4,"tools":[{"type":"function","function":{"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}]}`, outcome.ReasonInvalidRequest, "tools[0].function.name",
			`tools[0].function.name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" must be 1 to 64 letters, digits, _ or -`},
		{"tool parameters not an object", `{"model":"sim",` + msgs + `,"max_tokens":4,"tools":[{"type":"function","function":{"name":"f","parameters":"any"}}]}`, outcome.ReasonInvalidRequest, "tools[0].function.parameters",
			"tools[0].function.parameters must be a JSON Schema object"},
		{"tool twice", `{"model":"sim",` + msgs + `,"max_tokens":4,"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}]}`, outcome.ReasonInvalidRequest, "tools[1].function.name",
			`tool "f" is listed twice`},
		{"tool_choice", `{"model":"sim",` + msgs + `,"max_tokens":4,"tool_choice":"required"}`, outcome.ReasonInvalidRequest, "tool_choice",
			"tool_choice is required but tools lists none"},
		{"tool_choice unlisted", `{"model":"sim",` + msgs + `,"max_tokens":4,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}`, outcome.ReasonInvalidRequest, "tool_choice.function.name",
			`tool_choice names "g", which tools does not list`},
		{"functions", `{"model":"sim",` + msgs + `,"max_tokens":4,"functions":[{"name":"f"}]}`, outcome.ReasonInvalidRequest, "functions",
			"functions: the deprecated functions API is not supported by this runtime; send tools and tool_choice instead of functions"},
		{"function_call", `{"model":"sim",` + msgs + `,"max_tokens":4,"function_call":{"name":"f"}}`, outcome.ReasonInvalidRequest, "function_call",
			"function_call: the deprecated functions API is not supported by this runtime; send tools and tool_choice instead of function_call"},
		{"tools null", `{"model":"sim",` + msgs + `,"max_tokens":4,"tools":null}`, "", "", ""},
		// Asking for no tool is served: some client frameworks always send an empty list.
		{"tools empty", `{"model":"sim",` + msgs + `,"max_tokens":4,"tools":[ ],"functions":[]}`, "", "", ""},
		{"tool_choice none", `{"model":"sim",` + msgs + `,"max_tokens":4,"tools":[],"tool_choice":"none","function_call":"auto"}`, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ref := DecodeCompletion([]byte(tc.body), true, lookup)
			if tc.reason == "" {
				if ref != nil {
					t.Fatalf("refused: %s", ref.Message)
				}
				return
			}
			if ref == nil {
				t.Fatalf("accepted, want %s %q", tc.reason, tc.message)
			}
			if ref.Reason != tc.reason || ref.Param != tc.param || ref.Message != tc.message {
				t.Fatalf("got %s param %q %q\nwant %s param %q %q", ref.Reason, ref.Param, ref.Message, tc.reason, tc.param, tc.message)
			}
		})
	}
}

// TestJSONMessage: the batch endpoint's decoding errors are in the same words.
func TestJSONMessage(t *testing.T) {
	var sub struct {
		Requests []struct{ CustomID string } `json:"requests"`
	}
	for body, want := range map[string]string{
		`[1]`:              "body: expected a JSON object, got an array",
		`{"requests":{}}`:  "requests: expected a JSON array, got an object",
		`{"requests":[1]}`: "requests: expected a JSON object, got a number",
		`{"requests":`:     "body: malformed JSON at byte 12: unexpected end of JSON input",
	} {
		if got := jsonMessage(json.Unmarshal([]byte(body), &sub)); got != want {
			t.Errorf("%s: got %q, want %q", body, got, want)
		}
	}
}
