package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
)

// initUnknownKey is the credential `target init` presents to learn whether the runtime refuses a
// key it was never given: if it does, keys bind callers and tenants can be told apart.
const initUnknownKey = "arcert-init-unknown-key-0f3a"

// probeTimeout bounds each of the probe's requests; a CPU runtime loading a model answers the
// first completion slowly.
const probeTimeout = 2 * time.Minute

// runtimeFacts is what `target init` learned from the runtime.
type runtimeFacts struct {
	URL    string
	Models []probedModel
	// Model is the model the completions were asked of.
	Model string
	// Stated: the completion carried ARuntime-Outcome (the runtime speaks our contract).
	Stated bool
	// Latency is how long the one completion took.
	Latency time.Duration
	// Usage: the completion reported token usage; Cached: it reported
	// usage.prompt_tokens_details.cached_tokens, so prefix-cache hits are observable.
	Usage, Cached bool
	// Streams: a stream answered with data events and ended with [DONE]. StreamWhy says why not.
	Streams   bool
	StreamWhy string
	// UnknownRefused: a key the runtime was never given was refused (401/403), with its status.
	UnknownRefused bool
	UnknownStatus  int
	// Evidence: the runtime answers the evidence endpoint (discovery.PathEvidence) with a list,
	// the only place the harness can see who a request was bound to (TEN-1, ID-1, ADM-5).
	Evidence bool
}

type probedModel struct {
	ID string `json:"id"`
	// MaxModelLen is vLLM's context length, when the listing gives it.
	MaxModelLen int `json:"max_model_len"`
}

// probeRuntime asks the runtime at url, as key, for its models, one completion and one stream,
// and presents an unknown key once.
func probeRuntime(ctx context.Context, hc *http.Client, url, key string) (*runtimeFacts, error) {
	f := &runtimeFacts{URL: strings.TrimRight(url, "/")}
	var list struct {
		Data []probedModel `json:"data"`
	}
	status, _, body, err := probeCall(ctx, hc, http.MethodGet, f.URL+"/v1/models", key, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", f.URL, err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET %s/v1/models answered %d (%s): is this an OpenAI-compatible runtime, and is the key right?", f.URL, status, clip(body))
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.Data) == 0 {
		return nil, fmt.Errorf("GET %s/v1/models listed no model (%s)", f.URL, clip(body))
	}
	f.Models, f.Model = list.Data, list.Data[0].ID

	chat := map[string]any{"model": f.Model, "max_tokens": 8, "messages": []map[string]string{{"role": "user", "content": "Say hello."}}}
	start := time.Now()
	status, hdr, body, err := probeCall(ctx, hc, http.MethodPost, f.URL+"/v1/chat/completions", key, chat)
	f.Latency = time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("the completion failed: %w", err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("a completion of model %s answered %d (%s)", f.Model, status, clip(body))
	}
	f.Stated = hdr.Get(outcome.HeaderOutcome) != ""
	var done struct {
		Usage map[string]json.RawMessage `json:"usage"`
	}
	if json.Unmarshal(body, &done) == nil && done.Usage != nil {
		f.Usage = true
		var details struct {
			Cached *int `json:"cached_tokens"`
		}
		f.Cached = json.Unmarshal(done.Usage["prompt_tokens_details"], &details) == nil && details.Cached != nil
	}

	chat["stream"] = true
	f.Streams, f.StreamWhy = probeStream(ctx, hc, f.URL, key, chat)

	status, _, _, err = probeCall(ctx, hc, http.MethodPost, f.URL+"/v1/chat/completions", initUnknownKey, map[string]any{
		"model": f.Model, "max_tokens": 1, "messages": []map[string]string{{"role": "user", "content": "Hi."}}})
	if err == nil {
		f.UnknownStatus = status
		f.UnknownRefused = status == http.StatusUnauthorized || status == http.StatusForbidden
	}
	status, _, body, err = probeCall(ctx, hc, http.MethodGet, f.URL+discovery.PathEvidence+"?request_id=arcert-init-probe", key, nil)
	var records discovery.EvidenceList
	f.Evidence = err == nil && status == http.StatusOK && json.Unmarshal(body, &records) == nil
	return f, nil
}

// probeStream asks for one stream and reports whether it sent data events and ended with [DONE].
func probeStream(ctx context.Context, hc *http.Client, url, key string, chat map[string]any) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := newProbeRequest(ctx, http.MethodPost, url+"/v1/chat/completions", key, chat)
	if err != nil {
		return false, err.Error()
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Sprintf("status %d", resp.StatusCode)
	}
	events := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "data:")
		if !ok {
			continue
		}
		if strings.TrimSpace(data) == "[DONE]" {
			if events == 0 {
				return false, "it ended with [DONE] before any data"
			}
			return true, ""
		}
		events++
	}
	return false, fmt.Sprintf("%d data events and no [DONE]", events)
}

func probeCall(ctx context.Context, hc *http.Client, method, url, key string, body any) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := newProbeRequest(ctx, method, url, key, body)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, data, err
}

func newProbeRequest(ctx context.Context, method, url, key string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return req, nil
}

// clip is the start of a body, for one line of an error.
func clip(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 120 {
		s = s[:119] + "…"
	}
	return s
}
