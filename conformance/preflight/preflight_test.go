package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// fakeRuntime is an OpenAI-compatible stand-in whose faults a case switches on.
type fakeRuntime struct {
	keys       map[string]bool
	anyKey     bool // serves any credential
	models     []string
	noModels   bool // no /v1/models endpoint
	noStream   bool // answers a stream request with a plain JSON body and no content
	statusCode int  // answers every completion with this status when set
}

func (f fakeRuntime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !f.anyKey && !f.keys[key] {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprint(w, `{"error":{"message":"bad key","type":"authentication_error","code":"invalid_api_key"}}`)
		return
	}
	switch r.URL.Path {
	case "/v1/models":
		if f.noModels {
			http.NotFound(w, r)
			return
		}
		var data []map[string]string
		for _, m := range f.models {
			data = append(data, map[string]string{"id": m})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
	case "/v1/chat/completions":
		if f.statusCode != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.statusCode)
			_, _ = fmt.Fprint(w, `{"error":{"message":"model not loaded","type":"server_error"}}`)
			return
		}
		var body struct {
			Stream bool `json:"stream"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body.Stream && !f.noStream {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n")
			_, _ = fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		content := "hi"
		if body.Stream {
			content = ""
		}
		_, _ = fmt.Fprintf(w, `{"choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"length"}]}`, content)
	default:
		http.NotFound(w, r)
	}
}

func testTarget(url string) *target.Target {
	return &target.Target{Endpoints: target.Endpoints{HTTP: url},
		Models:   []target.Model{{Name: "tiny"}},
		Tenants:  []target.Tenant{{Name: "a", Key: "key-a"}, {Name: "b", Key: "key-b"}},
		Features: []string{"tenant-binding"}}
}

func TestPreflight(t *testing.T) {
	good := fakeRuntime{keys: map[string]bool{"key-a": true, "key-b": true}, models: []string{"tiny"}}
	cases := []struct {
		name string
		rt   fakeRuntime
		want string // "" passes
	}{
		{"a runtime that can be certified", good, ""},
		{"no /v1/models endpoint is not held against it", func() fakeRuntime { f := good; f.noModels = true; return f }(), ""},
		{"the declared model is not listed", func() fakeRuntime { f := good; f.models = []string{"other"}; return f }(), `does not list the declared model "tiny"`},
		{"a tenant's declared key is refused", func() fakeRuntime { f := good; f.keys = map[string]bool{"key-a": true}; return f }(), "tenant b's declared credential was refused (status 401)"},
		{"any key is served", func() fakeRuntime { f := good; f.anyKey = true; return f }(), "served a completion with a made-up credential"},
		{"completions fail", func() fakeRuntime { f := good; f.statusCode = 503; return f }(), "answered status 503: model not loaded"},
		{"streams deliver nothing", func() fakeRuntime { f := good; f.noStream = true; return f }(), "streamed completion delivered no content"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.rt)
			defer srv.Close()
			steps, err := Run(context.Background(), testTarget(srv.URL), driver.New(srv.URL))
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want == "" && len(steps) != 5:
				t.Fatalf("%d steps passed, want 5", len(steps))
			case c.want != "" && (err == nil || !errors.Is(err, ErrPreflight) || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want an ErrPreflight saying %q", err, c.want)
			}
		})
	}
}

// TestPreflightAnyKeyWithoutTenantBinding: a runtime that serves any key is not refused when the
// target claims no tenant binding (Ollama certified directly): the claim is what is checked.
func TestPreflightAnyKeyWithoutTenantBinding(t *testing.T) {
	rt := fakeRuntime{keys: map[string]bool{"key-a": true, "key-b": true}, models: []string{"tiny"}, anyKey: true}
	srv := httptest.NewServer(rt)
	defer srv.Close()
	tg := testTarget(srv.URL)
	tg.Features = nil
	if _, err := Run(context.Background(), tg, driver.New(srv.URL)); err != nil {
		t.Fatalf("refused a runtime that claims no tenant binding: %v", err)
	}
}

// TestPreflightDeadURLIsOneSentenceQuickly: nothing listens at the endpoint: one sentence naming
// the URL and the reason, from the dial (bounded at dialTimeout), before any request is sent.
func TestPreflightDeadURLIsOneSentenceQuickly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	start := time.Now()
	_, err = Run(context.Background(), testTarget(url), driver.New(url))
	if err == nil || !strings.Contains(err.Error(), "cannot reach the runtime at "+url+": ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v", err)
	}
	t.Logf("refused in %s (the dial is bounded at %s)", time.Since(start).Round(time.Millisecond), dialTimeout)
}
