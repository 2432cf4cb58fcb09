package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHTTPCallerOutcomes drives the load generator's HTTP caller against a server answering each
// way a path can: served, shed (429 and 503), another status, a connection dropped without an
// answer, and no answer before the deadline.
func TestHTTPCallerOutcomes(t *testing.T) {
	var behaviour atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" || r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		switch behaviour.Load().(string) {
		case "ok":
			_, _ = w.Write([]byte(`{"choices":[]}`))
		case "429":
			w.Header().Set("ARuntime-Outcome", "shed")
			w.WriteHeader(http.StatusTooManyRequests)
		case "503":
			w.Header().Set("ARuntime-Outcome", "shed")
			w.Header().Set("ARuntime-Outcome-Reason", "capacity")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
		case "drop":
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		case "slow":
			time.Sleep(300 * time.Millisecond)
		}
	}))
	defer srv.Close()
	call, closeFn, err := httpCaller(strings.TrimPrefix(srv.URL, "http://"), "k", 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	for _, c := range []struct {
		behaviour string
		want      outcome
		errHas    string
	}{
		{"ok", served, ""},
		{"429", shed, "status 429"},
		{"503", shed, "outcome shed/capacity"},
		{"500", failed, "status 500"},
		{"drop", connError, ""},
		{"slow", connError, ""},
		{"ok", served, ""}, // the caller still works after a dropped and a timed-out connection
	} {
		behaviour.Store(c.behaviour)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		got, err := call(ctx)
		cancel()
		if got != c.want {
			t.Errorf("%s: outcome %d (%v), want %d", c.behaviour, got, err, c.want)
		}
		if c.errHas != "" && (err == nil || !strings.Contains(err.Error(), c.errHas)) {
			t.Errorf("%s: error %v, want one saying %q", c.behaviour, err, c.errHas)
		}
	}
}
