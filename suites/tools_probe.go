package suites

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/conformance/target"
)

// toolRecord is one call the tool server says reached it (the stand-in's /v1/toolserver/seen).
type toolRecord struct {
	Tool              string   `json:"tool"`
	Authorized        bool     `json:"authorized"`
	Credential        string   `json:"credential"`
	HeaderCredentials []string `json:"header_credentials"`
	ValueCredentials  []string `json:"value_credentials"`
	Tenant            string   `json:"tenant"`
	Application       string   `json:"application"`
	User              string   `json:"user"`
	RequestID         string   `json:"request_id"`
}

// toolRecords reads the tool server's own record of every call that reached it.
func toolRecords(ctx context.Context) []toolRecord {
	var body struct {
		Records []toolRecord `json:"records"`
	}
	url := env.Target.Tools.Observe
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	Expect(err).NotTo(HaveOccurred(), "tools.observe %q", url)
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred(), "GET %s", url)
	defer func() { _ = resp.Body.Close() }()
	Expect(resp.StatusCode).To(Equal(http.StatusOK), "GET %s", url)
	Expect(json.NewDecoder(resp.Body).Decode(&body)).To(Succeed(), "GET %s", url)
	return body.Records
}

// toolsDeclared reports whether the target declares runtime-side tools and where to observe them.
func toolsDeclared() bool {
	t := env.Target.Tools
	return t != nil && len(t.Runtime) > 0 && t.Observe != ""
}

// runtimeToolOf is the first runtime-side tool tenant t may use; "" when none.
func runtimeToolOf(t target.Tenant) string {
	for _, name := range t.Tools {
		if slices.Contains(env.Target.Tools.Runtime, name) {
			return name
		}
	}
	return ""
}

// toolProbe is a chat request offering the function tools names.
func toolProbe(content string, stream bool, names ...string) openai.CompletionRequest {
	body := probe(content, 4, stream)
	if stream {
		body.StreamOptions = &openai.StreamOptions{IncludeUsage: true} // TOOL-1 reads the prompt's count
	}
	tools := make([]openai.Tool, 0, len(names))
	for _, n := range names {
		tools = append(tools, openai.Tool{Type: "function", Function: openai.ToolFunction{Name: n,
			Parameters: map[string]any{"type": "object", "properties": map[string]any{"order_id": map[string]any{"type": "string"}}}}})
	}
	raw, err := json.Marshal(tools)
	Expect(err).NotTo(HaveOccurred())
	body.Tools = raw
	return body
}

// callAdapter posts one tool call straight to the tool adapter as key and returns the status.
func callAdapter(ctx context.Context, key string, t target.Tenant, tool, requestID string) int {
	b, err := json.Marshal(map[string]any{"request_id": requestID, "tenant": t.Name, "application": t.Application, "user": t.User,
		"tool": tool, "arguments": map[string]any{"order_id": "ord-arcert"}})
	Expect(err).NotTo(HaveOccurred())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.Target.Tools.Adapter, bytes.NewReader(b))
	Expect(err).NotTo(HaveOccurred(), "tools.adapter %q", env.Target.Tools.Adapter)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred(), "POST %s", env.Target.Tools.Adapter)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// recordsFor indexes records by request id.
func recordsFor(recs []toolRecord) map[string][]toolRecord {
	out := map[string][]toolRecord{}
	for _, r := range recs {
		out[r.RequestID] = append(out[r.RequestID], r)
	}
	return out
}

// presented are the distinct fingerprints the tool server was ever presented: the bearer
// token, every header value, every string of a call's _meta and arguments.
func presented(recs []toolRecord) []string {
	var out []string
	for _, r := range recs {
		for _, fp := range append(append([]string{r.Credential}, r.HeaderCredentials...), r.ValueCredentials...) {
			if fp != "" && !slices.Contains(out, fp) {
				out = append(out, fp)
			}
		}
	}
	return out
}
