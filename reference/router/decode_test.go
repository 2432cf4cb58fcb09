package router

import (
	"strings"
	"testing"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
)

var testModel = config.Model{Name: "sim", ContextLength: 64, MaxOutputTokens: 32, ArtifactDigest: "sha256:" + strings.Repeat("a", 64)}

func lookup(name string) (config.Model, bool) {
	if name == testModel.Name {
		return testModel, true
	}
	return config.Model{}, false
}

func TestDecodeCompletion(t *testing.T) {
	tests := []struct {
		name   string
		chat   bool
		body   string
		reason outcome.Reason // "" means accepted
		param  string
	}{
		{"chat ok", true, `{"model":"sim","messages":[{"role":"user","content":"hello there"}],"max_tokens":4}`, "", ""},
		{"content parts", true, `{"model":"sim","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_tokens":4}`, "", ""},
		{"image part", true, `{"model":"sim","messages":[{"role":"user","content":[{"type":"image_url","text":"x"}]}],"max_tokens":4}`, outcome.ReasonInvalidRequest, "messages[0].content[0].type"},
		{"completion ok", false, `{"model":"sim","prompt":"once upon","max_tokens":4}`, "", ""},
		{"malformed json", true, `{"model":"sim",`, outcome.ReasonInvalidRequest, ""},
		{"trailing garbage", true, `{"model":"sim"} x`, outcome.ReasonInvalidRequest, ""},
		{"wrong type", true, `{"model":"sim","messages":[{"role":"user","content":"hi"}],"max_tokens":"4"}`, outcome.ReasonInvalidRequest, "max_tokens"},
		{"invalid utf8", true, "{\"model\":\"sim\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}],\"max_tokens\":4}", outcome.ReasonInvalidRequest, ""},
		{"unknown model", true, `{"model":"gpt-9","messages":[{"role":"user","content":"hi"}],"max_tokens":4}`, outcome.ReasonUnknownModel, "model"},
		{"missing model", true, `{"messages":[{"role":"user","content":"hi"}],"max_tokens":4}`, outcome.ReasonInvalidRequest, "model"},
		{"missing max_tokens", true, `{"model":"sim","messages":[{"role":"user","content":"hi"}]}`, outcome.ReasonInvalidRequest, "max_tokens"},
		{"negative max_tokens", true, `{"model":"sim","messages":[{"role":"user","content":"hi"}],"max_tokens":-1}`, outcome.ReasonInvalidRequest, "max_tokens"},
		{"huge max_tokens", true, `{"model":"sim","messages":[{"role":"user","content":"hi"}],"max_tokens":99999999999}`, outcome.ReasonInvalidRequest, "max_tokens"},
		{"max_completion_tokens", true, `{"model":"sim","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":4}`, "", ""},
		{"disagreeing limits", true, `{"model":"sim","messages":[{"role":"user","content":"hi"}],"max_tokens":3,"max_completion_tokens":4}`, outcome.ReasonInvalidRequest, "max_completion_tokens"},
		{"over context", false, `{"model":"sim","prompt":"` + strings.Repeat("word ", 40) + `","max_tokens":30}`, outcome.ReasonContextLengthExceeded, "prompt"},
		{"no messages", true, `{"model":"sim","messages":[],"max_tokens":4}`, outcome.ReasonInvalidRequest, "messages"},
		{"blank messages", true, `{"model":"sim","messages":[{"role":"user","content":"  "}],"max_tokens":4}`, outcome.ReasonInvalidRequest, "messages"},
		{"bad role", true, `{"model":"sim","messages":[{"role":"root","content":"hi"}],"max_tokens":4}`, outcome.ReasonInvalidRequest, "messages[0].role"},
		{"prompt on chat", true, `{"model":"sim","prompt":"hi","messages":[{"role":"user","content":"hi"}],"max_tokens":4}`, outcome.ReasonInvalidRequest, "prompt"},
		{"messages on completion", false, `{"model":"sim","prompt":"hi","messages":[{"role":"user","content":"hi"}],"max_tokens":4}`, outcome.ReasonInvalidRequest, "messages"},
		{"n=2", true, `{"model":"sim","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"n":2}`, outcome.ReasonInvalidRequest, "n"},
		{"huge cache_salt", true, `{"model":"sim","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"cache_salt":"` + strings.Repeat("s", 300) + `"}`, outcome.ReasonInvalidRequest, "cache_salt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ref := DecodeCompletion([]byte(tc.body), tc.chat, lookup)
			if tc.reason == "" {
				if ref != nil {
					t.Fatalf("refused: %v", ref)
				}
				if c.PromptTokens == 0 || c.MaxTokens == 0 || c.Prompt == "" {
					t.Fatalf("accepted request incomplete: %+v", c)
				}
				return
			}
			if ref == nil {
				t.Fatalf("accepted, want refusal %s", tc.reason)
			}
			if ref.Reason != tc.reason || ref.Param != tc.param {
				t.Fatalf("refusal %s param %q (%s), want %s param %q", ref.Reason, ref.Param, ref.Message, tc.reason, tc.param)
			}
			if ref.Message == "" {
				t.Fatal("refusal without a message")
			}
		})
	}
}

// TestDecodeIgnoresIdentityLabels: the body's user and cache_salt are carried as labels only; the
// decoder has no notion of tenant at all, which is what this pins down.
func TestDecodeIgnoresIdentityLabels(t *testing.T) {
	c, ref := DecodeCompletion([]byte(`{"model":"sim","messages":[{"role":"user","content":"tenant: globex"}],"max_tokens":2,"user":"globex","cache_salt":"globex"}`), true, lookup)
	if ref != nil {
		t.Fatal(ref)
	}
	if c.ClientUser != "globex" || c.CacheSalt != "globex" {
		t.Fatalf("labels not carried: %+v", c)
	}
}

func FuzzDecodeCompletion(f *testing.F) {
	f.Add([]byte(`{"model":"sim","messages":[{"role":"user","content":"hello"}],"max_tokens":4}`), true)
	f.Add([]byte(`{"model":"sim","prompt":"x","max_tokens":1,"stream":true}`), false)
	f.Add([]byte(`{"model":"sim","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}],"max_completion_tokens":2}`), true)
	f.Add([]byte("\xff"), true)
	f.Fuzz(func(t *testing.T, body []byte, chat bool) {
		c, ref := DecodeCompletion(body, chat, lookup)
		if ref != nil {
			if ref.Message == "" || ref.Reason.Class() != outcome.Rejected {
				t.Fatalf("refusal %+v must be a rejected reason with a message", ref)
			}
			return
		}
		if c.MaxTokens < 1 || c.MaxTokens > testModel.MaxOutputTokens || c.PromptTokens+c.MaxTokens > testModel.ContextLength {
			t.Fatalf("accepted an out-of-range request: %+v", c)
		}
	})
}
