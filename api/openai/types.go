// Package openai holds the OpenAI-compatible wire types of the data plane, shared by the reference
// runtime's router and the harness's HTTP driver. Only the fields the contract uses are declared;
// the router's decoder rejects what it cannot honour rather than ignoring it silently.
package openai

import (
	"encoding/json"

	"github.com/aruntime/arcert/api/outcome"
)

// ChatMessage is one message of a chat completion request.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	// ToolCalls are the calls an assistant message asks the client to execute (tools.go).
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID names the call a tool message answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
}

// StreamOptions mirrors OpenAI's stream_options.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// CompletionRequest is the body of POST /v1/chat/completions (Messages) and POST /v1/completions
// (Prompt). Pointer fields tell "absent" from zero so validation can name what is missing.
type CompletionRequest struct {
	Model               string         `json:"model"`
	Messages            []ChatMessage  `json:"messages,omitempty"`
	Prompt              *string        `json:"prompt,omitempty"`
	MaxTokens           *int64         `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int64         `json:"max_completion_tokens,omitempty"`
	Stream              bool           `json:"stream,omitempty"`
	StreamOptions       *StreamOptions `json:"stream_options,omitempty"`
	Seed                *int64         `json:"seed,omitempty"`
	Temperature         *float64       `json:"temperature,omitempty"`
	TopP                *float64       `json:"top_p,omitempty"`
	N                   *int64         `json:"n,omitempty"`
	Stop                any            `json:"stop,omitempty"`
	// User is the caller's own end-user label. It is recorded, never used for identity.
	User string `json:"user,omitempty"`
	// CacheSalt is vLLM's client-chosen salt. It may narrow cache sharing inside the caller's
	// tenant; it can never widen it, because the tenant salt comes first.
	CacheSalt string `json:"cache_salt,omitempty"`
	// Tools and ToolChoice are OpenAI's tools (tools.go): a runtime-side tool is executed by the
	// runtime, any other function tool goes back to the client as tool_calls. Functions and
	// FunctionCall (the deprecated form) are read only so that a request setting them is refused
	// rather than answered as if they were not there.
	Tools        json.RawMessage `json:"tools,omitempty"`
	ToolChoice   json.RawMessage `json:"tool_choice,omitempty"`
	Functions    json.RawMessage `json:"functions,omitempty"`
	FunctionCall json.RawMessage `json:"function_call,omitempty"`
}

// PromptTokensDetails is usage.prompt_tokens_details.
type PromptTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

// Usage is the token accounting of a completion.
type Usage struct {
	PromptTokens        int                 `json:"prompt_tokens"`
	CompletionTokens    int                 `json:"completion_tokens"`
	TotalTokens         int                 `json:"total_tokens"`
	PromptTokensDetails PromptTokensDetails `json:"prompt_tokens_details"`
}

// Choice is one choice of a non-streamed response. Message is set for chat, Text for completions.
type Choice struct {
	Index        int          `json:"index"`
	Message      *ChatMessage `json:"message,omitempty"`
	Text         *string      `json:"text,omitempty"`
	FinishReason string       `json:"finish_reason"`
}

// Outcome is the contract's outcome as it appears in a body or in the final SSE event.
type Outcome struct {
	Class    outcome.Class    `json:"class"`
	Reason   outcome.Reason   `json:"reason"`
	ServedBy outcome.ServedBy `json:"served_by"`
}

// CompletionResponse is the body of a non-streamed completion.
type CompletionResponse struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   Usage    `json:"usage"`
	Outcome *Outcome `json:"aruntime_outcome,omitempty"`
}

// Delta is the incremental content of a streamed chat chunk.
type Delta struct {
	Role      string     `json:"role,omitempty"`
	Content   string     `json:"content,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// ChunkChoice is one choice of a streamed chunk. Delta is set for chat, Text for completions.
type ChunkChoice struct {
	Index        int     `json:"index"`
	Delta        *Delta  `json:"delta,omitempty"`
	Text         *string `json:"text,omitempty"`
	FinishReason *string `json:"finish_reason"`
}

// Chunk is one SSE data event of a streamed completion. The last data event before [DONE] has no
// choices, carries Usage, and carries the contract's Outcome.
type Chunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	Usage   *Usage        `json:"usage,omitempty"`
	Outcome *Outcome      `json:"aruntime_outcome,omitempty"`
}

// ErrorBody is OpenAI's error envelope, extended with the contract's outcome so that clients that
// read only bodies still see it.
type ErrorBody struct {
	Error   ErrorDetail `json:"error"`
	Outcome *Outcome    `json:"aruntime_outcome,omitempty"`
}

// ErrorDetail is the inner error object.
type ErrorDetail struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    string `json:"code"`
	Param   string `json:"param,omitempty"`
}

// Model is one entry of GET /v1/models.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// ModelList is the body of GET /v1/models.
type ModelList struct {
	Object string  `json:"object"`
	Data   []Model `json:"data"`
}
