package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestAwaitPartsWaitsUntilServing: a part that answers 503 twice and then 200 is waited for; the
// wait returns once it serves.
func TestAwaitPartsWaitsUntilServing(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if asked.Add(1) <= 2 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := awaitParts(context.Background(), &out, []string{srv.URL + "/healthz"}, 30*time.Second); err != nil {
		t.Fatalf("awaitParts: %v", err)
	}
	if n := asked.Load(); n != 3 {
		t.Errorf("asked %d times, want 3 (two refusals, then serving)", n)
	}
	if !strings.Contains(out.String(), "serve after") {
		t.Errorf("progress %q does not say when the part served", out.String())
	}
}

// TestAwaitPartsNamesWhatNeverServed: the timeout's error names the part and its last answer,
// and a malformed URL is refused at once rather than waited for.
func TestAwaitPartsNamesWhatNeverServed(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no capacity", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	up := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer up.Close()
	err := awaitParts(context.Background(), &bytes.Buffer{}, []string{up.URL, down.URL + "/healthz"}, time.Second)
	if err == nil || !strings.Contains(err.Error(), down.URL+"/healthz (unhealthy: 503") || strings.Contains(err.Error(), up.URL+" (") {
		t.Errorf("error %v: want the unhealthy part named with its answer, and only it", err)
	}
	start := time.Now()
	err = awaitParts(context.Background(), &bytes.Buffer{}, []string{"registry:5000"}, time.Minute)
	if err == nil || !strings.Contains(err.Error(), `--await "registry:5000"`) || time.Since(start) > time.Second {
		t.Errorf("malformed URL: %v after %s, want an error at once naming it", err, time.Since(start))
	}
	if err := awaitParts(context.Background(), &bytes.Buffer{}, nil, time.Second); err != nil {
		t.Errorf("nothing to await: %v", err)
	}
}
