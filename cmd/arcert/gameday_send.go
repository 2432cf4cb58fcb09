package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// Shape of a game day's requests: short streamed chat completions, so TTFT and the outcome at the
// stream's end are both measured and the load stays what the scenario sized it to be.
const (
	gamedayPromptWords = 12
	gamedayMaxTokens   = 8
	// gamedayHungMargin is how far past its deadline and the run's grace a request is abandoned;
	// it is then recorded as taking that long, which the tally counts as hung.
	gamedayHungMargin = time.Second
	// gamedayDefaultDeadline applies to a tenant or class that declares none.
	gamedayDefaultDeadline = 30 * time.Second
)

// gamedayWords is the vocabulary of the seeded prompts.
var gamedayWords = strings.Fields(`alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo
lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu`)

// requester sends a game day's requests to the runtime a target describes.
type requester struct {
	t     *target.Target
	http  *driver.Client
	grace time.Duration
	// nonce is this run's own: the seed fixes the schedule and the prompts' structure, the nonce
	// keeps a second run with the same seed from finding its prompts already cached.
	nonce string
}

func newRequester(t *target.Target, grace time.Duration) *requester {
	return &requester{t: t, http: httpClient(t, driver.MaxConnsPerHost), grace: grace, nonce: fmt.Sprintf("%x", time.Now().UnixNano())}
}

// env returns the engine's view of the runtime: send, probe and evidence lookups.
func (r *requester) env() scenario.Env {
	env := scenario.Env{Send: r.send, Probe: r.probe, Grace: r.grace}
	if r.t.Operator != nil && r.t.Operator.Key != "" {
		env.Records = r.records
	}
	return env
}

// send makes one seeded request of the schedule.
func (r *requester) send(ctx context.Context, req scenario.Request) ledger.Entry {
	return r.do(ctx, req.Tenant, req.Class, r.prompt(req.Rand, req.Seq), req.Seq)
}

// probe is one steady-state probe: a fresh short prompt.
func (r *requester) probe(ctx context.Context, tenant, class string) ledger.Entry {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	return r.do(ctx, tenant, class, "steady state probe "+r.prompt(rng, 0), 0)
}

func (r *requester) prompt(rng *rand.Rand, seq int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "game day %s request %d:", r.nonce, seq)
	for range gamedayPromptWords {
		b.WriteByte(' ')
		b.WriteString(gamedayWords[rng.IntN(len(gamedayWords))])
	}
	return b.String()
}

// do sends one streamed completion as tenant in class and records it as a ledger entry. A tenant
// the target does not declare is a plan error the compiler catches; here it is sent without a key
// and recorded as whatever the runtime answers.
func (r *requester) do(ctx context.Context, tenant, class, prompt string, seq int) ledger.Entry {
	key, deadline := r.tenant(tenant, class)
	rctx, cancel := context.WithTimeout(ctx, deadline+r.grace+gamedayHungMargin)
	defer cancel()
	maxTokens := int64(gamedayMaxTokens)
	call := driver.Call{Path: driver.PathChatCompletions, Key: key, Body: openai.CompletionRequest{
		Model: r.model(), Messages: []openai.ChatMessage{{Role: "user", Content: prompt}}, MaxTokens: &maxTokens, Stream: true,
	}}
	if class != "" {
		call.Header = http.Header{outcome.HeaderTrafficClass: {class}}
	}
	start := time.Now()
	res, err := r.http.Do(rctx, call)
	e := ledger.Entry{Seq: seq, Tenant: tenant, Class: class, Path: "http-stream", Endpoint: res.Endpoint, Start: res.Start, End: res.Start.Add(res.Latency),
		TTFT: res.TTFT, Deadline: deadline, RequestID: res.RequestID, Outcome: res.Outcome, Reason: res.Reason, ServedBy: res.ServedBy,
		Indeterminate: res.Indeterminate || err != nil, Violations: res.ContractViolations, MidStream: res.MidStreamError, Tokens: res.Tokens}
	if e.Start.IsZero() {
		e.Start, e.End = start, time.Now()
	}
	return e
}

// tenant returns tenant's key and the deadline of class (its first class when class is empty).
func (r *requester) tenant(name, class string) (key string, deadline time.Duration) {
	deadline = gamedayDefaultDeadline
	for _, t := range r.t.Tenants {
		if t.Name != name {
			continue
		}
		key = t.Key
		if class == "" && len(t.TrafficClasses) > 0 {
			class = t.TrafficClasses[0]
		}
	}
	for _, c := range r.t.TrafficClasses {
		if c.Name == class && c.Deadline > 0 {
			deadline = c.Deadline
		}
	}
	return key, deadline
}

// model is the first model the target declares.
func (r *requester) model() string {
	if len(r.t.Models) > 0 {
		return r.t.Models[0].Name
	}
	return ""
}

// records counts the runtime's evidence records of a request id, read with the operator's key.
func (r *requester) records(ctx context.Context, id string) (int, error) {
	var list discovery.EvidenceList
	status, _, err := r.http.GetJSON(ctx, discovery.PathEvidence+"?request_id="+url.QueryEscape(id), r.t.Operator.Key, &list)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("evidence of %s: status %d", id, status)
	}
	return len(list.Records), nil
}
