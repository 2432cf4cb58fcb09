package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// sdkClient is the official OpenAI Go SDK pointed at the runtime, with retries off so a refusal
// is seen once, as sent.
func sdkClient(rt *Runtime, key string) openai.Client {
	return openai.NewClient(option.WithBaseURL("http://"+rt.Topology().HTTP+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

func sdkParams(content string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:     model,
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage(content)},
		MaxTokens: openai.Int(8),
	}
}

// TestOpenAISDK: the official SDK gets plain and streamed chat completions, and every response
// says `completed` with where it was served.
func TestOpenAISDK(t *testing.T) {
	rt := start(t, devConfig(t))
	client := sdkClient(rt, acmeKey)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var resp *http.Response
	got, err := client.Chat.Completions.New(ctx, sdkParams("Say hello to the harness."), option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Choices) != 1 || got.Choices[0].Message.Content == "" || got.Usage.CompletionTokens != 8 {
		t.Fatalf("unexpected completion: %+v", got)
	}
	if o := resp.Header.Get("ARuntime-Outcome"); o != "completed" {
		t.Fatalf("ARuntime-Outcome %q, want completed", o)
	}
	if sb := resp.Header.Get("ARuntime-Served-By"); !strings.Contains(sb, "region=eu-west") || !strings.Contains(sb, "provider=aruntime") {
		t.Fatalf("ARuntime-Served-By %q", sb)
	}

	params := sdkParams("Stream a greeting.")
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(ctx, params, option.WithResponseInto(&resp))
	var acc openai.ChatCompletionAccumulator
	var final struct {
		Outcome struct {
			Class  string `json:"class"`
			Reason string `json:"reason"`
		} `json:"aruntime_outcome"`
	}
	for stream.Next() {
		chunk := stream.Current()
		acc.AddChunk(chunk)
		if strings.Contains(chunk.RawJSON(), "aruntime_outcome") {
			if err := json.Unmarshal([]byte(chunk.RawJSON()), &final); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("ARuntime-Outcome") != "completed" || final.Outcome.Class != "completed" || final.Outcome.Reason != "none" {
		t.Fatalf("stream outcome: header %q, final event %+v", resp.Header.Get("ARuntime-Outcome"), final.Outcome)
	}
	if len(acc.Choices) != 1 || acc.Choices[0].Message.Content == "" || acc.Usage.CompletionTokens != 8 {
		t.Fatalf("accumulated stream: %+v", acc.ChatCompletion)
	}
}

// TestOpenAISDKBadKey: a wrong key is a 401 that says `rejected`, seen through the SDK's error.
func TestOpenAISDKBadKey(t *testing.T) {
	rt := start(t, devConfig(t))
	client := sdkClient(rt, "not-a-key-at-all")
	_, err := client.Chat.Completions.New(context.Background(), sdkParams("hi"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err %v, want an API error", err)
	}
	if apiErr.StatusCode != http.StatusUnauthorized || apiErr.Response.Header.Get("ARuntime-Outcome") != "rejected" ||
		apiErr.Response.Header.Get("ARuntime-Outcome-Reason") != "unauthenticated" {
		t.Fatalf("got %d %s/%s", apiErr.StatusCode, apiErr.Response.Header.Get("ARuntime-Outcome"), apiErr.Response.Header.Get("ARuntime-Outcome-Reason"))
	}
}
