package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestFloorProxiesRelayTheBackend: a floor row only means something if its proxy did the hop:
// each must hand back the completion byte for byte, and a next hop that is gone (the backend, the
// worker) must come back as 502, not as a body the proxy made up.
func TestFloorProxiesRelayTheBackend(t *testing.T) {
	backend, stopBackend, err := startBackend()
	if err != nil {
		t.Fatal(err)
	}
	rt, shutdown, err := startBench(context.Background(), benchConfig())
	if err != nil {
		stopBackend()
		t.Fatal(err)
	}
	cfg := benchConfig()
	paths, stop, err := floorPaths(backend, rt.Topology().Workers[benchWorker], cfg.Router.WorkerToken, 4)
	if err != nil {
		stopBackend()
		shutdown()
		t.Fatal(err)
	}
	defer stop()
	if len(paths) != 5 {
		t.Fatalf("floor paths %d, want 5 (net/http, fasthttp, mixed, the gRPC hop behind net/http and behind fasthttp)", len(paths))
	}
	for _, p := range paths {
		status, body := post(t, p.addr)
		if status != http.StatusOK || body != backendBody {
			t.Errorf("%s: status %d, body %q; want 200 and the backend's body", p.name, status, body)
		}
	}
	stopBackend()
	shutdown()
	for _, p := range paths {
		if status, body := post(t, p.addr); status != http.StatusBadGateway {
			t.Errorf("%s with the backend gone: status %d (%q), want 502", p.name, status, body)
		}
	}
}

func post(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
