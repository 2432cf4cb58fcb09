package openai

// Tool is one entry of a chat request's tools: a function the model may call. Only type
// "function" exists in the API; the router refuses any other type by name.
type Tool struct {
	Type     string       `json:"type"`
	Function ToolFunction `json:"function"`
}

// ToolFunction declares a function tool. Parameters (a JSON Schema) is kept as sent.
type ToolFunction struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Parameters  any    `json:"parameters,omitempty"`
}

// ToolCall is one call of a function tool, as an assistant message or a streamed delta carries
// it. Index is set in streamed deltas only.
type ToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall is the function a ToolCall calls, its arguments a JSON object as text.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// FinishToolCalls is the finish_reason of a response that ends with tool calls for the client.
const FinishToolCalls = "tool_calls"
