package runtime

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUnknownPathsAndMethods: an unknown path is 404 not_found and a known path asked with the
// wrong method 405 method_not_allowed with Allow, each with the contract's outcome, an OpenAI
// error body, and a count in /metrics.
func TestUnknownPathsAndMethods(t *testing.T) {
	rt := start(t, devConfig(t))
	nf := get(t, rt, "/v1/no/such/thing", acmeKey)
	expectOutcome(t, nf, http.StatusNotFound, "rejected", "not_found")
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(nf.body, &body); err != nil || body.Error.Code != "not_found" || !strings.Contains(body.Error.Message, "/v1/no/such/thing") {
		t.Errorf("404 body %s (%v)", nf.body, err)
	}
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodGet, "/v1/chat/completions", "POST"},
		{http.MethodDelete, "/v1/models", "GET, HEAD"},
		{http.MethodPost, "/healthz", "GET, HEAD"},
	} {
		req, err := http.NewRequest(c.method, "http://"+rt.Topology().HTTP+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+acmeKey)
		r := do(t, req)
		expectOutcome(t, r, http.StatusMethodNotAllowed, "rejected", "method_not_allowed")
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
	m := get(t, rt, "/metrics", "")
	for _, want := range []string{
		`aruntime_requests_total{outcome="rejected",reason="not_found",tenant="",traffic_class=""} 1`,
		`aruntime_requests_total{outcome="rejected",reason="method_not_allowed",tenant="",traffic_class=""} 3`,
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestH2C: the HTTP port speaks HTTP/2 with prior knowledge, a plain and a streamed completion
// alike, the stream's outcome in its trailers.
func TestH2C(t *testing.T) {
	rt := start(t, devConfig(t))
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &p}}
	t.Cleanup(client.CloseIdleConnections)
	send := func(stream bool) (*http.Response, []byte) {
		t.Helper()
		c := chat("hello over h2c", 4)
		c["stream"] = stream
		b, _ := json.Marshal(c)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+rt.Topology().HTTP+"/v1/chat/completions", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+acmeKey)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("h2c request: %v", err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 2 {
			t.Fatalf("answered over %s, want HTTP/2", resp.Proto)
		}
		return resp, body
	}
	resp, body := send(false)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ARuntime-Outcome") != "completed" {
		t.Fatalf("plain completion over h2c: %d %s %s", resp.StatusCode, resp.Header.Get("ARuntime-Outcome"), body)
	}
	resp, body = send(true)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("data: [DONE]")) {
		t.Fatalf("streamed completion over h2c: %d %s", resp.StatusCode, body)
	}
	if got := resp.Trailer.Get("ARuntime-Outcome"); got != "completed" {
		t.Errorf("stream trailer ARuntime-Outcome %q, want completed (trailers %v)", got, resp.Trailer)
	}
}
