package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestPprofServesProfilesOnLoopbackOnly(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	if addr, err := startPprof(t.Context(), "", log); err != nil || addr != "" {
		t.Fatalf("off by default: got %q, %v", addr, err)
	}
	for _, bad := range []string{"0.0.0.0:6060", ":6060", "10.1.2.3:6060", "example.com:6060"} {
		if _, err := startPprof(t.Context(), bad, log); !errors.Is(err, errPprofNotLoopback) {
			t.Errorf("--pprof-listen %s: err %v, want a refusal naming loopback", bad, err)
		}
	}
	if _, err := startPprof(t.Context(), "127.0.0.1", log); err == nil || !strings.Contains(err.Error(), "--pprof-listen") {
		t.Errorf("an address without a port: err %v, want one naming the flag", err)
	}
	addr, err := startPprof(t.Context(), "127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap profile") {
		t.Fatalf("heap profile: %d %.200q", resp.StatusCode, body)
	}
}
