package compose

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// A restarted router is back when its own endpoint's /healthz answers 200, which is what
// routerEndpoint finds by the router's place in Parts["router"]; a router without an endpoint
// (or another part) has none, and Restart then waits for its check instead (Docker's health, or
// the dev.arcert.health label's command run in the container).
func TestRouterEndpointAndHealth(t *testing.T) {
	var ready atomic.Bool
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(s.Close)
	d := &Deployment{o: Options{Parts: map[string][]string{"router": {"router-1", "router-2", "router-3"}},
		Routers: []string{"http://unused:1", s.URL + "/"}}, http: s.Client()}

	if got := d.routerEndpoint("router-2"); got != s.URL {
		t.Errorf("router-2's endpoint is %q, want %q (its trailing slash dropped)", got, s.URL)
	}
	for _, name := range []string{"router-3", "worker-a"} {
		if got := d.routerEndpoint(name); got != "" {
			t.Errorf("%s has endpoint %q, want none", name, got)
		}
	}
	ok, why, err := d.routerHealthy(context.Background(), "router-2")
	if err != nil || ok {
		t.Errorf("a router answering 503 is healthy=%v (%s, %v), want not yet", ok, why, err)
	}
	ready.Store(true)
	if ok, why, err := d.routerHealthy(context.Background(), "router-2"); err != nil || !ok {
		t.Errorf("a router answering 200 is healthy=%v (%s, %v), want back", ok, why, err)
	}
}
