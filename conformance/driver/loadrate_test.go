package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/traffic"
)

// BenchmarkOpenLoopLedger measures the open-loop rate one arcert process sustains with what a load
// run does per request (suites/load.go: the driver's Do, the contract read from headers and body,
// a chaos ledger entry recorded) against a zero-cost runtime in the same process. It steps the
// offered rate up and reports the highest step at which every request was served and p99 from the
// scheduled send (so a generator that fell behind counts) stayed under 20 ms: past that, the
// harness rather than the runtime would limit a certification's load. The server shares
// the process and its two cores, so the figure is a lower bound. Run it with
// `go test -run '^$' -bench OpenLoopLedger -benchtime 1x ./conformance/driver`.
func BenchmarkOpenLoopLedger(b *testing.B) {
	srv := httptest.NewServer(zeroCostRuntime())
	defer srv.Close()
	c := New(srv.URL, WithAPIKey("bench-key"))
	body := openai.CompletionRequest{Model: "m", Messages: []openai.ChatMessage{{Role: "user", Content: "Summarise the incident report in one line."}}, MaxTokens: new(int64(4))}
	for range 500 { // warm connections
		_, _ = c.Do(context.Background(), Call{Path: PathChatCompletions, Body: body})
	}
	sustained := 0.0
	for b.Loop() {
		for _, rate := range []float64{5000, 10000, 15000, 20000, 25000, 30000, 40000} {
			r := ledgerRun(c, body, rate, 2*time.Second)
			b.Logf("%.0f/s offered: %d of %d served, p99 %v, max lag %v", rate, r.served, r.sent, r.p99, r.maxLag)
			if r.served != r.sent || r.p99 > 20*time.Millisecond {
				break
			}
			sustained = rate
		}
	}
	b.ReportMetric(sustained, "req/s-sustained")
}

type ledgerResult struct {
	sent, served int
	p99, maxLag  time.Duration
}

// ledgerRun is one open-loop run at rate for d, recorded as suites' load runs record it.
func ledgerRun(c *Client, body openai.CompletionRequest, rate float64, d time.Duration) ledgerResult {
	var l chaosledger.Ledger
	var lat traffic.Latencies
	var served atomic.Int64
	st := traffic.OpenLoop(context.Background(), traffic.Profile{Name: "ledger", Rate: rate, Duration: d, Seed: 1},
		func(ctx context.Context, i int, scheduled time.Time) {
			res, err := c.Do(ctx, Call{Path: PathChatCompletions, Body: body})
			e := chaosledger.Entry{Seq: i + 1, Tenant: "bench", Endpoint: res.Endpoint, Scheduled: scheduled, Start: res.Start,
				End: res.Start.Add(res.Latency), TTFT: res.TTFT, Status: res.Status, RequestID: res.RequestID,
				Outcome: res.Outcome, Reason: res.Reason, ServedBy: res.ServedBy, Indeterminate: res.Indeterminate || err != nil,
				Violations: res.ContractViolations, Tokens: res.Tokens, Path: "http"}
			if err != nil {
				e.Error = err.Error()
			}
			l.Record(e)
			lat.Record(time.Since(scheduled))
			if e.Error == "" && e.Outcome.Served() && len(e.Violations) == 0 {
				served.Add(1)
			}
		})
	return ledgerResult{sent: st.Sent, served: int(served.Load()), p99: lat.Quantile(0.99), maxLag: st.MaxLag}
}

// zeroCostRuntime answers every completion at once with a contract-conformant response, encoded
// once: the benchmark measures the harness, not the runtime.
func zeroCostRuntime() http.Handler {
	resp, _ := json.Marshal(openai.CompletionResponse{ID: "c", Object: "chat.completion", Model: "m",
		Choices: []openai.Choice{{Message: &openai.ChatMessage{Role: "assistant", Content: "a b c d"}, FinishReason: "length"}},
		Usage:   openai.Usage{PromptTokens: 9, CompletionTokens: 4, TotalTokens: 13}})
	var n atomic.Int64
	sb := outcome.ServedBy{Region: "local", Pool: "bench", Worker: "w"}.String()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set(outcome.HeaderRequestID, fmt.Sprintf("req-%d", n.Add(1)))
		h.Set(outcome.HeaderOutcome, string(outcome.Completed))
		h.Set(outcome.HeaderReason, string(outcome.ReasonNone))
		h.Set(outcome.HeaderServedBy, sb)
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(resp)
	})
}
