package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/reference/config"
)

// Billing tests: evidence bills the tokens as delivered at the moment a request ends.
const (
	// billingMaxTokens is long enough that no stream below completes before it is ended.
	billingMaxTokens = 200
	// billingCutAfter is how many chunks the client reads before it closes the stream.
	billingCutAfter = 5
	// billingDeadline ends a stream of the slow worker (20 ms a token) after about 15 tokens.
	billingDeadline = 300 * time.Millisecond
	// billingEvidenceWait bounds the wait for a request's record, written after its response.
	billingEvidenceWait = 5 * time.Second
)

// streamChunks opens a stream of body and reads up to limit content chunks (0: to the end). It
// returns the request id, the chunks read and the usage of the stream's last event, if any.
func streamChunks(t *testing.T, rt *Runtime, body map[string]any, limit int) (id string, chunks int, usage map[string]any) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // closing the connection is how the client goes away
	body["stream"] = true
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+rt.Topology().HTTP+"/v1/chat/completions", strings.NewReader(string(mustMarshal(t, body))))
	req.Header.Set("Authorization", "Bearer "+acmeKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	id = resp.Header.Get("X-Request-Id")
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var ev struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
			Usage map[string]any `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %s: %v", data, err)
		}
		if len(ev.Choices) > 0 && ev.Choices[0].Delta.Content != "" {
			chunks++
		}
		if ev.Usage != nil {
			usage = ev.Usage
		}
		if limit > 0 && chunks == limit {
			return id, chunks, nil
		}
	}
	return id, chunks, usage
}

// recordOf waits for the one evidence record of request id (none yet is waited out; two fail).
func recordOf(t *testing.T, rt *Runtime, id string) discovery.Record {
	t.Helper()
	deadline := time.Now().Add(billingEvidenceWait)
	for {
		r := get(t, rt, "/v1/aruntime/evidence?request_id="+id, acmeKey)
		if r.status == http.StatusOK {
			var list discovery.EvidenceList
			if err := json.Unmarshal(r.body, &list); err != nil {
				t.Fatal(err)
			}
			switch len(list.Records) {
			case 0: // the ending of a cut stream is recorded moments after the client left
			case 1:
				return list.Records[0]
			default:
				t.Fatalf("request %s has %d records", id, len(list.Records))
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no evidence for %s: %d %s", id, r.status, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// expectBilled fails unless rec bills the prompt and completion tokens at the model's prices.
func expectBilled(t *testing.T, cfg *config.Config, rec discovery.Record, completionLo, completionHi int) {
	t.Helper()
	if rec.Tokens.Prompt == 0 || rec.Tokens.Completion < completionLo || rec.Tokens.Completion > completionHi {
		t.Fatalf("%s/%s billed %d prompt and %d completion tokens, want a prompt and %d to %d completion tokens",
			rec.Outcome, rec.Reason, rec.Tokens.Prompt, rec.Tokens.Completion, completionLo, completionHi)
	}
	m := cfg.Models[0]
	if want := (int64(rec.Tokens.Prompt)*m.PromptPricePer1K + int64(rec.Tokens.Completion)*m.CompletionPricePer1K) / 1000; rec.CostMicroUSD != want {
		t.Fatalf("cost %d µUSD, want %d at the declared prices", rec.CostMicroUSD, want)
	}
}

// TestCancelledStreamBillsWhatWentOut: a stream the client closes after a few chunks is billed
// its prompt and the chunks that went out (the one in flight as the client closed may count).
func TestCancelledStreamBillsWhatWentOut(t *testing.T) {
	cfg := slowConfig(t, nil)
	rt := start(t, cfg)
	id, n, _ := streamChunks(t, rt, chat("a long story", billingMaxTokens), billingCutAfter)
	rec := recordOf(t, rt, id)
	if rec.Outcome != "failed" || rec.Reason != "client_cancelled" {
		t.Fatalf("outcome %s/%s, want failed/client_cancelled", rec.Outcome, rec.Reason)
	}
	expectBilled(t, cfg, rec, n, n+1)
}

// TestTimedOutStreamBillsWhatWentOut: a stream whose deadline passes mid-way is billed what the
// client received, and its last event's usage says the same.
func TestTimedOutStreamBillsWhatWentOut(t *testing.T) {
	cfg := slowConfig(t, func(c *config.Config) { c.TrafficClasses[0].Deadline = billingDeadline })
	rt := start(t, cfg)
	id, n, usage := streamChunks(t, rt, chat("a long story", billingMaxTokens), 0)
	rec := recordOf(t, rt, id)
	if rec.Outcome != "timed_out" || n == 0 {
		t.Fatalf("outcome %s/%s after %d chunks, want timed_out mid-stream", rec.Outcome, rec.Reason, n)
	}
	expectBilled(t, cfg, rec, n, n)
	if usage["completion_tokens"] != float64(n) || usage["prompt_tokens"] != float64(rec.Tokens.Prompt) {
		t.Fatalf("the stream's usage %v differs from its record's %d prompt and %d completion tokens", usage, rec.Tokens.Prompt, n)
	}
}

// TestCompletedStreamBillsItsUsage: a completed stream is billed as its usage says.
func TestCompletedStreamBillsItsUsage(t *testing.T) {
	cfg := slowConfig(t, nil)
	rt := start(t, cfg)
	const tokens = 8
	id, n, usage := streamChunks(t, rt, chat("a short story", tokens), 0)
	rec := recordOf(t, rt, id)
	if rec.Outcome != "completed" || usage["completion_tokens"] != float64(n) {
		t.Fatalf("outcome %s/%s, %d chunks, usage %v", rec.Outcome, rec.Reason, n, usage)
	}
	expectBilled(t, cfg, rec, n, n)
}
