package tooladapter_test

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/aruntime/arcert/fixtures/toolserver"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/tooladapter"
)

// testConfig is the smallest configuration with a tool, a tenant allowed it and one not.
func testConfig() *config.Config {
	return &config.Config{
		Router:    config.Router{WorkerToken: "router-workload-token"},
		Operators: []config.Operator{{Name: "ops", Key: "operator-key-123"}},
		Tenants: []config.Tenant{
			{Name: "acme", Tools: []string{toolserver.ToolLookupOrder}, Keys: []config.APIKey{{Key: "acme-key-1234", Application: "acme-chat", User: "alice"}}},
			{Name: "initech", Keys: []config.APIKey{{Key: "initech-key-1234", Application: "reports", User: "peter"}}},
		},
		Tools: config.Tools{Served: []string{toolserver.ToolLookupOrder}, AdapterKey: "adapter-own-key", RouterKey: "router-own-key"},
	}
}

// start runs the stand-in tool server and an adapter in front of it.
func start(t *testing.T, cfg *config.Config, d tooladapter.Defects) (*toolserver.Server, *httptest.Server) {
	t.Helper()
	ts, err := toolserver.Start("127.0.0.1:0", cfg.Tools.AdapterKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ts.Close() })
	ad := httptest.NewServer(tooladapter.NewServer(cfg, ts.URL(), d).Handler())
	t.Cleanup(ad.Close)
	return ts, ad
}

func call(tenant string) tooladapter.CallRequest {
	return tooladapter.CallRequest{RequestID: "req-1", Tenant: tenant, Application: "acme-chat", User: "alice",
		Tool: toolserver.ToolLookupOrder, Arguments: map[string]any{"order_id": "ord-7"}}
}

// TestOnlyTheRouterMayCallTheAdapter: the router's key is served and reaches the tool with the
// adapter's own key and the tenant context; a tenant's key, the operator's, the workload
// credential every worker holds and an unknown one are refused before any tool call.
func TestOnlyTheRouterMayCallTheAdapter(t *testing.T) {
	cfg := testConfig()
	ts, ad := start(t, cfg, tooladapter.Defects{})
	for _, key := range []string{"acme-key-1234", "operator-key-123", "router-workload-token", "not-a-key-at-all"} {
		_, err := tooladapter.NewClient(ad.URL, key).Call(context.Background(), call("acme"))
		if !errors.Is(err, tooladapter.ErrRefused) {
			t.Errorf("caller %q: err %v, want ErrRefused", key, err)
		}
	}
	if n := len(ts.Seen()); n != 0 {
		t.Fatalf("refused callers reached the tool server %d times", n)
	}
	res, err := tooladapter.NewClient(ad.URL, cfg.Tools.RouterKey).Call(context.Background(), call("acme"))
	if err != nil || res.Text == "" {
		t.Fatalf("router's call: %+v, %v", res, err)
	}
	seen := ts.Seen()
	if len(seen) != 1 {
		t.Fatalf("tool server saw %d calls, want 1", len(seen))
	}
	s := seen[0]
	if s.Credential != toolserver.Fingerprint(cfg.Tools.AdapterKey) || !s.Authorized {
		t.Errorf("tool server was presented %s (authorized %v), want the adapter's own key", s.Credential, s.Authorized)
	}
	if s.Tenant != "acme" || s.Application != "acme-chat" || s.User != "alice" || s.RequestID != "req-1" {
		t.Errorf("tool call carried %+v, want acme/acme-chat/alice/req-1", s)
	}
}

// TestTenantMayUseOnlyItsTools: a tenant not given the tool is refused, and nothing is called.
func TestTenantMayUseOnlyItsTools(t *testing.T) {
	cfg := testConfig()
	ts, ad := start(t, cfg, tooladapter.Defects{})
	_, err := tooladapter.NewClient(ad.URL, cfg.Tools.RouterKey).Call(context.Background(), call("initech"))
	if !errors.Is(err, tooladapter.ErrRefused) || len(ts.Seen()) != 0 {
		t.Fatalf("initech's call: err %v, %d calls reached the server; want refused and none", err, len(ts.Seen()))
	}
}

// TestUnreachableToolServerIsUnavailable: a closed tool server, or no adapter at all, is
// ErrUnavailable: the router ends the request tool_unavailable.
func TestUnreachableToolServerIsUnavailable(t *testing.T) {
	cfg := testConfig()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + lis.Addr().String() + toolserver.MCPPath
	_ = lis.Close()
	ad := httptest.NewServer(tooladapter.NewServer(cfg, dead, tooladapter.Defects{}).Handler())
	defer ad.Close()
	if _, err := tooladapter.NewClient(ad.URL, cfg.Tools.RouterKey).Call(context.Background(), call("acme")); !errors.Is(err, tooladapter.ErrUnavailable) {
		t.Fatalf("closed tool server: err %v, want ErrUnavailable", err)
	}
	if _, err := tooladapter.NewClient("http://"+lis.Addr().String(), cfg.Tools.RouterKey).Call(context.Background(), call("acme")); !errors.Is(err, tooladapter.ErrUnavailable) {
		t.Fatalf("no adapter: err %v, want ErrUnavailable", err)
	}
}

// TestTheAdapterAloneHoldsNoOtherKey: with the configuration a lone adapter gets, it still serves
// the router and a tenant's allowed tool, and every other credential is unknown (401) to it.
func TestTheAdapterAloneHoldsNoOtherKey(t *testing.T) {
	cfg := testConfig()
	view := cfg.ToolAdapterView()
	if len(view.Operators) != 0 || view.Router.WorkerToken != "" || len(view.Tenants[0].Keys) != 0 || view.Tools.RouterKey != cfg.Tools.RouterKey {
		t.Fatalf("view %+v keeps keys it does not need, or lost the router's", view)
	}
	ts, ad := start(t, view, tooladapter.Defects{})
	if _, err := tooladapter.NewClient(ad.URL, cfg.Tools.RouterKey).Call(context.Background(), call("acme")); err != nil {
		t.Fatalf("router's call: %v", err)
	}
	for _, key := range []string{"acme-key-1234", "router-workload-token"} {
		if _, err := tooladapter.NewClient(ad.URL, key).Call(context.Background(), call("acme")); !errors.Is(err, tooladapter.ErrRefused) {
			t.Errorf("caller %q: err %v, want ErrRefused", key, err)
		}
	}
	if n := len(ts.Seen()); n != 1 {
		t.Fatalf("the tool server saw %d calls, want the router's one", n)
	}
}

// TestTheStandInRecordsAWrongKey: a call with another credential than the adapter's is refused
// and recorded with that credential's fingerprint, which is how a leaked key is seen.
func TestTheStandInRecordsAWrongKey(t *testing.T) {
	cfg := testConfig()
	ts, _ := start(t, cfg, tooladapter.Defects{})
	_, err := tooladapter.CallMCP(context.Background(), ts.URL(), "acme-key-1234", call("acme"), nil)
	if !errors.Is(err, tooladapter.ErrUnavailable) {
		t.Fatalf("wrong key: err %v, want the call to fail", err)
	}
	seen := ts.Seen()
	if len(seen) == 0 || seen[0].Authorized || seen[0].Credential != toolserver.Fingerprint("acme-key-1234") {
		t.Fatalf("record %+v, want an unauthorized call with acme's key's fingerprint", seen)
	}
}
