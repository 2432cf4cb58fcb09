package router

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/tokenizer"
)

// Completion is one validated inference request, the same whether it came over HTTP or gRPC. It
// holds nothing about identity: that is the Principal bound at admission.
type Completion struct {
	Chat  bool
	Model config.Model
	// Prompt is the text a worker tokenizes: a chat's messages rendered, or the prompt as sent.
	Prompt string
	// Messages are a chat's messages as sent, kept so that a hosted provider is asked a chat as a
	// chat rather than the rendered prompt.
	Messages     []openai.ChatMessage
	PromptTokens int
	MaxTokens    int
	Seed         int64
	Stream       bool
	// ClientUser is the body's `user` label: recorded in evidence, never used for identity.
	ClientUser string
	// CacheSalt is the client's salt; the worker mixes it in after the tenant's own salt.
	CacheSalt string
	// Tools are the function tools a chat offers its model; ToolChoice is tool_choice: empty,
	// none, auto, required, or the name of one of Tools (tools_decode.go).
	Tools      []openai.Tool
	ToolChoice string
}

// Refusal is a request refused before any work, with the reason of the closed enum and a message
// that names the field at fault. It is an error so it can travel through ordinary returns.
type Refusal struct {
	Reason  outcome.Reason
	Param   string
	Message string
}

func (r *Refusal) Error() string { return r.Message }

func refuse(reason outcome.Reason, param, format string, args ...any) *Refusal {
	return &Refusal{Reason: reason, Param: param, Message: fmt.Sprintf(format, args...)}
}

// maxCacheSaltBytes and maxUserBytes bound client labels that end up in evidence records.
const (
	maxCacheSaltBytes = 256
	maxUserBytes      = 256
)

// chatRoles are the message roles a chat prompt may contain.
var chatRoles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true}

// DecodeCompletion parses and validates a request body of POST /v1/chat/completions (chat) or
// POST /v1/completions. It never panics on any input; every refusal says what is wrong and where.
func DecodeCompletion(body []byte, chat bool, models func(string) (config.Model, bool)) (Completion, *Refusal) {
	if bytes.HasPrefix(body, gzipMagic) {
		// A client that compressed without saying so (or a proxy that dropped Content-Encoding).
		return Completion{}, refuse(outcome.ReasonUnsupportedMediaType, "", "the body is gzip-compressed; this runtime reads plain JSON only (send it uncompressed)")
	}
	if !utf8.Valid(body) {
		// encoding/json would quietly replace invalid bytes with U+FFFD and bill a different prompt.
		return Completion{}, refuse(outcome.ReasonInvalidRequest, "", "the body is not valid UTF-8")
	}
	var req openai.CompletionRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return Completion{}, jsonRefusal(body, err)
	}
	return Validate(req, chat, models)
}

// gzipMagic starts every gzip stream (RFC 1952); no JSON text can start with it.
var gzipMagic = []byte{0x1f, 0x8b}

// Validate checks a decoded request against the served models and renders its prompt.
func Validate(req openai.CompletionRequest, chat bool, models func(string) (config.Model, bool)) (Completion, *Refusal) {
	c := Completion{Chat: chat, Stream: req.Stream, ClientUser: req.User, CacheSalt: req.CacheSalt}
	if req.Model == "" {
		return c, refuse(outcome.ReasonInvalidRequest, "model", "model is required")
	}
	m, ok := models(req.Model)
	if !ok {
		return c, refuse(outcome.ReasonUnknownModel, "model", "model %q is not served here (GET /v1/models lists them)", req.Model)
	}
	c.Model = m
	if len(req.User) > maxUserBytes {
		return c, refuse(outcome.ReasonInvalidRequest, "user", "user is %d bytes, at most %d", len(req.User), maxUserBytes)
	}
	if len(req.CacheSalt) > maxCacheSaltBytes {
		return c, refuse(outcome.ReasonInvalidRequest, "cache_salt", "cache_salt is %d bytes, at most %d", len(req.CacheSalt), maxCacheSaltBytes)
	}
	if req.N != nil && *req.N != 1 {
		return c, refuse(outcome.ReasonInvalidRequest, "n", "n is %d; this runtime returns exactly one choice", *req.N)
	}
	if r := refuseTools(req); r != nil {
		return c, r
	}
	if r := c.decodeTools(req); r != nil {
		return c, r
	}
	if r := c.renderPrompt(req, chat); r != nil {
		return c, r
	}
	if r := c.checkTokens(req); r != nil {
		return c, r
	}
	if req.Seed != nil {
		c.Seed = *req.Seed
	}
	return c, nil
}

// renderPrompt turns chat messages or a completion prompt into the text the worker tokenizes.
func (c *Completion) renderPrompt(req openai.CompletionRequest, chat bool) *Refusal {
	if !chat {
		if req.Messages != nil {
			return refuse(outcome.ReasonInvalidRequest, "messages", "messages belong to /v1/chat/completions; send prompt here")
		}
		if req.Prompt == nil || strings.TrimSpace(*req.Prompt) == "" {
			return refuse(outcome.ReasonInvalidRequest, "prompt", "prompt is required and must not be blank")
		}
		c.Prompt = *req.Prompt
		return nil
	}
	if req.Prompt != nil {
		return refuse(outcome.ReasonInvalidRequest, "prompt", "prompt belongs to /v1/completions; send messages here")
	}
	if len(req.Messages) == 0 {
		return refuse(outcome.ReasonInvalidRequest, "messages", "messages is required and must not be empty")
	}
	var b strings.Builder
	blank := true
	for i, msg := range req.Messages {
		blank = blank && strings.TrimSpace(msg.Content) == ""
		if !chatRoles[msg.Role] {
			return refuse(outcome.ReasonInvalidRequest, fmt.Sprintf("messages[%d].role", i), "messages[%d].role %q is not one of system, developer, user, assistant, tool", i, msg.Role)
		}
		b.WriteString(msg.Role)
		b.WriteString(": ")
		b.WriteString(msg.Content)
		b.WriteByte('\n')
	}
	if blank {
		return refuse(outcome.ReasonInvalidRequest, "messages", "every message is empty")
	}
	c.Prompt, c.Messages = b.String(), req.Messages
	return nil
}

// checkTokens bounds max_tokens and the whole context. max_tokens is required because admission
// reserves prompt plus output tokens against the tenant's quota and the worker's KV cache.
func (c *Completion) checkTokens(req openai.CompletionRequest) *Refusal {
	param, mt := "max_tokens", req.MaxTokens
	if req.MaxCompletionTokens != nil {
		if mt != nil && *mt != *req.MaxCompletionTokens {
			return refuse(outcome.ReasonInvalidRequest, "max_completion_tokens", "max_tokens %d and max_completion_tokens %d disagree", *mt, *req.MaxCompletionTokens)
		}
		param, mt = "max_completion_tokens", req.MaxCompletionTokens
	}
	if mt == nil {
		return refuse(outcome.ReasonInvalidRequest, "max_tokens", "max_tokens is required: admission reserves prompt plus output tokens against quota and capacity")
	}
	if *mt < 1 {
		return refuse(outcome.ReasonInvalidRequest, param, "%s is %d, want at least 1", param, *mt)
	}
	if *mt > int64(c.Model.MaxOutputTokens) {
		return refuse(outcome.ReasonInvalidRequest, param, "%s is %d, model %q produces at most %d", param, *mt, c.Model.Name, c.Model.MaxOutputTokens)
	}
	c.MaxTokens = int(*mt)
	c.PromptTokens = tokenizer.Count(c.Prompt)
	if c.PromptTokens+c.MaxTokens > c.Model.ContextLength {
		where := "prompt"
		if c.Chat {
			where = "messages"
		}
		return refuse(outcome.ReasonContextLengthExceeded, where, "prompt is %d tokens and %s %d; model %q has a context of %d", c.PromptTokens, param, c.MaxTokens, c.Model.Name, c.Model.ContextLength)
	}
	return nil
}
