package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aruntime/arcert/conformance/report"
	"github.com/aruntime/arcert/conformance/target"
	"github.com/aruntime/arcert/fixtures/targets"
)

// countingProxy stands in front of the router at upstream as one more router, and counts the
// completions that reached it, other than the preflight's own (which asks every router in turn,
// so it would count even if the specs' load were not spread).
func countingProxy(t *testing.T, upstream string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "completions") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if !bytes.Contains(body, []byte("arcert preflight")) {
				n.Add(1)
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestCertifySpreadsOverEveryRouter certifies the embedded reference through two routers, each a
// counting proxy in front of its one real router: the spec's completions must take turns between
// them, and the report must name both.
func TestCertifySpreadsOverEveryRouter(t *testing.T) {
	rt, stop, err := startEmbedded(context.Background(), "", nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	topo := rt.Topology()
	a, na := countingProxy(t, "http://"+topo.HTTP)
	b, nb := countingProxy(t, "http://"+topo.HTTP)
	const primary = "endpoints:\n  http: http://127.0.0.1:8080\n  grpc: 127.0.0.1:8081\n"
	ref := string(targets.ReferenceYAML)
	if !strings.Contains(ref, primary) {
		t.Fatalf("the reference target has no endpoints block %q", primary)
	}
	two := "endpoints:\n  http: " + a.URL + "\n  grpc: " + topo.GRPC + "\n  more:\n    - {http: " + b.URL + ", grpc: " + topo.GRPC + "}\n"
	file := filepath.Join(t.TempDir(), "two-routers.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(ref, primary, two, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := runArcert(t, "certify", "--target", file, "--profile", "core", "--focus", "OUT-1", "--out", out); err != nil {
		t.Fatalf("certify: %v", err)
	}
	// Every spec completion goes through Do on the one spread client, so the two routers' counts
	// differ by at most one, whatever the specs' concurrency.
	if x, y := na.Load(), nb.Load(); x < 5 || y < 5 || x-y > 1 || y-x > 1 {
		t.Errorf("the routers saw %d and %d of the specs' completions, want about half each", x, y)
	}
	rep, err := report.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{a.URL, b.URL}; !slices.Equal(rep.Target.Endpoints, want) {
		t.Errorf("report.json target.endpoints = %v, want %v", rep.Target.Endpoints, want)
	}
	summary, err := os.ReadFile(filepath.Join(out, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := "load spread round-robin over 2 routers: " + a.URL + ", " + b.URL; !strings.Contains(string(summary), want) {
		t.Errorf("summary.md lacks %q", want)
	}
}

// TestGamedayLedgerNamesEachRouter: a game day's requests take the routers in turn, and each
// ledger entry names the one it was sent to.
func TestGamedayLedgerNamesEachRouter(t *testing.T) {
	refuse := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "busy", http.StatusServiceUnavailable) })
	a, b := httptest.NewServer(refuse), httptest.NewServer(refuse)
	defer a.Close()
	defer b.Close()
	tg, err := target.Parse(targets.ReferenceName, targets.ReferenceYAML)
	if err != nil {
		t.Fatal(err)
	}
	tg.Endpoints = target.Endpoints{HTTP: a.URL, More: []target.Router{{HTTP: b.URL}}}
	r := newRequester(tg, time.Second)
	var got []string
	for seq := range 4 {
		got = append(got, r.do(context.Background(), tg.Tenants[0].Name, "", "hello", seq).Endpoint)
	}
	if want := []string{a.URL, b.URL, a.URL, b.URL}; !slices.Equal(got, want) {
		t.Errorf("ledger endpoints %v, want %v", got, want)
	}
}
