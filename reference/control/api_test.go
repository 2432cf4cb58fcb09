package control

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/identity"
)

const (
	operatorKey = "op-key"
	tenantKey   = "tenant-key"
	workerKey   = "worker-key"
)

// apiClient calls the operator API of a fresh store.
type apiClient struct {
	t   *testing.T
	url string
	env *testEnv
}

func newAPI(t *testing.T) *apiClient {
	t.Helper()
	e := newEnv(t)
	dir := identity.NewDirectory(&config.Config{
		Operators: []config.Operator{{Name: "ops", Key: operatorKey}},
		Tenants:   []config.Tenant{{Name: "acme", Keys: []config.APIKey{{Key: tenantKey, Application: "app", User: "u"}}}},
		Router:    config.Router{WorkerToken: workerKey},
	})
	srv := httptest.NewServer(Handler(e.store, dir, Options{}))
	t.Cleanup(srv.Close)
	return &apiClient{t: t, url: srv.URL, env: e}
}

// response is what a test looks at of an answer.
type response struct {
	status  int
	class   string
	reason  string
	body    []byte
	problem openai.ErrorBody
}

// do sends one request and checks what every response must carry.
func (c *apiClient) do(method, path, key, body string) response {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.env.ctx(), method, c.url+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, class: resp.Header.Get(outcome.HeaderOutcome), reason: resp.Header.Get(outcome.HeaderReason), body: b}
	if resp.Header.Get(outcome.HeaderRequestID) == "" || r.class == "" || r.reason == "" {
		c.t.Fatalf("%s %s: %d without request id or outcome: %v", method, path, r.status, resp.Header)
	}
	if _, err := outcome.ParseReason(r.reason); err != nil || outcome.Reason(r.reason).Class() != outcome.Class(r.class) {
		c.t.Fatalf("%s %s: outcome %s/%s is not in the contract", method, path, r.class, r.reason)
	}
	if r.status >= 400 {
		_ = json.Unmarshal(b, &r.problem)
	}
	return r
}

func (r response) is(t *testing.T, what string, status int, reason outcome.Reason) {
	t.Helper()
	if r.status != status || r.reason != string(reason) || r.class != string(reason.Class()) {
		t.Fatalf("%s: %d %s/%s (%s), want %d %s", what, r.status, r.class, r.reason, r.body, status, reason)
	}
}

func modelJSON(name string) string {
	return `{"artifact_digest":"` + digestOf(name) + `","repo":"reg/m"}`
}

// TestAPIIsOperatorOnly: no other identity reaches any endpoint, and a refused write stores nothing.
func TestAPIIsOperatorOnly(t *testing.T) {
	c := newAPI(t)
	calls := []struct{ method, path, body string }{
		{"GET", "/v1/control/models/m", ""},
		{"PUT", "/v1/control/models/m", modelJSON("a")},
		{"GET", "/v1/control/models/m/history", ""},
		{"POST", "/v1/control/models/m/rollback", `{"revision":1}`},
		{"GET", "/v1/control/nowhere", ""},
	}
	callers := []struct {
		name, key string
		status    int
		reason    outcome.Reason
	}{
		{"no credential", "", http.StatusUnauthorized, outcome.ReasonUnauthenticated},
		{"unknown key", "guess", http.StatusUnauthorized, outcome.ReasonUnauthenticated},
		{"tenant", tenantKey, http.StatusForbidden, outcome.ReasonForbidden},
		{"worker", workerKey, http.StatusForbidden, outcome.ReasonForbidden},
	}
	for _, who := range callers {
		for _, call := range calls {
			r := c.do(call.method, call.path, who.key, call.body)
			r.is(t, who.name+" "+call.method+" "+call.path, who.status, who.reason)
		}
	}
	c.do("GET", "/v1/control/models/m", operatorKey, "").is(t, "operator GET after refused PUTs", http.StatusNotFound, outcome.ReasonNotFound)
}

func TestAPIPutGetHistoryRollback(t *testing.T) {
	c := newAPI(t)
	put := c.do("PUT", "/v1/control/models/m", operatorKey, modelJSON("a"))
	put.is(t, "PUT a", http.StatusOK, outcome.ReasonNone)
	var first RevisionResponse
	if err := json.Unmarshal(put.body, &first); err != nil || first.Revision == 0 {
		t.Fatalf("PUT answered %s (%v)", put.body, err)
	}
	c.do("PUT", "/v1/control/models/m", operatorKey, modelJSON("b")).is(t, "PUT b", http.StatusOK, outcome.ReasonNone)

	rb := c.do("POST", "/v1/control/models/m/rollback", operatorKey, `{"revision":`+jsonNum(first.Revision)+`}`)
	rb.is(t, "rollback", http.StatusOK, outcome.ReasonNone)
	get := c.do("GET", "/v1/control/models/m", operatorKey, "")
	get.is(t, "GET", http.StatusOK, outcome.ReasonNone)
	var cur Entry
	if err := json.Unmarshal(get.body, &cur); err != nil {
		t.Fatal(err)
	}
	var doc ModelDoc
	if err := json.Unmarshal(cur.Value, &doc); err != nil || doc.ArtifactDigest != digestOf("a") || cur.Revision <= first.Revision {
		t.Fatalf("after rollback GET = %s", get.body)
	}
	h := c.do("GET", "/v1/control/models/m/history", operatorKey, "")
	h.is(t, "history", http.StatusOK, outcome.ReasonNone)
	var hist HistoryResponse
	if err := json.Unmarshal(h.body, &hist); err != nil || len(hist.Entries) != 3 {
		t.Fatalf("history = %s (%v), want three revisions", h.body, err)
	}
}

func TestAPIRefusesMalformedRequests(t *testing.T) {
	c := newAPI(t)
	c.do("PUT", "/v1/control/models/m", operatorKey, modelJSON("a")).is(t, "PUT", http.StatusOK, outcome.ReasonNone)
	cases := []struct {
		name, method, path, body string
		status                   int
		reason                   outcome.Reason
		param                    string
	}{
		{"bad digest", "PUT", "/v1/control/models/m", `{"artifact_digest":"latest","repo":"r"}`, 400, outcome.ReasonInvalidRequest, "artifact_digest"},
		{"unknown field", "PUT", "/v1/control/models/m", `{"artifact_digest":"` + digestOf("a") + `","repo":"r","x":1}`, 400, outcome.ReasonInvalidRequest, "x"},
		{"weight", "PUT", "/v1/control/rollout/m", `{"from_digest":"` + digestOf("a") + `","to_digest":"` + digestOf("b") + `","weight":200,"version":"v"}`, 400, outcome.ReasonInvalidRequest, "weight"},
		{"not JSON", "PUT", "/v1/control/quotas/acme", `{`, 400, outcome.ReasonInvalidRequest, ""},
		{"bad key", "PUT", "/v1/control/models/a*b", modelJSON("a"), 400, outcome.ReasonInvalidRequest, "key"},
		{"too large", "PUT", "/v1/control/models/m", `{"repo":"` + strings.Repeat("r", maxBodyBytes) + `"}`, 413, outcome.ReasonBodyTooLarge, ""},
		{"unknown bucket", "GET", "/v1/control/secrets/m", "", 404, outcome.ReasonNotFound, ""},
		{"missing key", "GET", "/v1/control/models/none", "", 404, outcome.ReasonNotFound, ""},
		{"rollback field", "POST", "/v1/control/models/m/rollback", `{"rev":1}`, 400, outcome.ReasonInvalidRequest, "rev"},
		{"rollback zero", "POST", "/v1/control/models/m/rollback", `{"revision":0}`, 400, outcome.ReasonInvalidRequest, "revision"},
		{"rollback gone", "POST", "/v1/control/models/m/rollback", `{"revision":999}`, 404, outcome.ReasonNotFound, ""},
		{"method", "DELETE", "/v1/control/models/m", "", 405, outcome.ReasonMethodNotAllowed, ""},
		{"autoscale record", "PUT", "/v1/control/autoscale/worker-s", `{"model":"m","workers":3,"action":"scale_out","reason":"forged"}`, 400, outcome.ReasonInvalidRequest, "bucket"},
		{"autoscale rollback", "POST", "/v1/control/autoscale/worker-s/rollback", `{"revision":1}`, 400, outcome.ReasonInvalidRequest, "bucket"},
		{"no endpoint", "GET", "/v1/control/nowhere", "", 404, outcome.ReasonNotFound, ""},
	}
	for _, k := range cases {
		r := c.do(k.method, k.path, operatorKey, k.body)
		r.is(t, k.name, k.status, k.reason)
		if r.problem.Error.Param != k.param {
			t.Errorf("%s: param %q, want %q (%s)", k.name, r.problem.Error.Param, k.param, r.body)
		}
	}
	h := c.do("GET", "/v1/control/models/m/history", operatorKey, "")
	var hist HistoryResponse
	if err := json.Unmarshal(h.body, &hist); err != nil || len(hist.Entries) != 1 {
		t.Fatalf("after refusals history = %s, want the one good revision", h.body)
	}
}

func jsonNum(n uint64) string { b, _ := json.Marshal(n); return string(b) }
