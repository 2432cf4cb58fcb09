package driver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aruntime/arcert/api/outcome"
)

// router is a fake router that refuses every call (the cheapest complete answer of the contract)
// and counts the calls that reached it.
func router(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"data":[]}`))
			return
		}
		n.Add(1)
		errorBody(w, http.StatusServiceUnavailable, outcome.Shed, outcome.ReasonCapacity)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestSpreadTakesTurns: calls from many goroutines at once split evenly over two routers, and
// each Result names the router its call reached; JSON exchanges stay on the primary.
func TestSpreadTakesTurns(t *testing.T) {
	a, na := router(t)
	b, nb := router(t)
	c := New(a.URL, WithMoreEndpoints(b.URL+"/"))
	if got := c.Endpoints(); len(got) != 2 || got[0] != a.URL || got[1] != b.URL {
		t.Fatalf("Endpoints() = %v", got)
	}
	const calls = 40
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			res, err := c.Do(context.Background(), chatCall(false))
			if err != nil || res.Outcome != outcome.Shed {
				t.Errorf("call: %v, outcome %q", err, res.Outcome)
			}
			mu.Lock()
			seen[res.Endpoint]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if na.Load() != calls/2 || nb.Load() != calls/2 {
		t.Errorf("the routers saw %d and %d calls, want %d each", na.Load(), nb.Load(), calls/2)
	}
	if seen[a.URL] != calls/2 || seen[b.URL] != calls/2 {
		t.Errorf("results name endpoints %v, want %d each of %s and %s", seen, calls/2, a.URL, b.URL)
	}
	for range 4 {
		if _, _, err := c.GetJSON(context.Background(), "/v1/models", "", nil); err != nil {
			t.Fatal(err)
		}
	}
	if na.Load() != calls/2 || nb.Load() != calls/2 {
		t.Errorf("JSON exchanges were counted as calls: %d and %d", na.Load(), nb.Load())
	}
}

// TestAtPinsOneRouter: a Client pinned to one router sends every call there, and a transport
// error names the router that failed.
func TestAtPinsOneRouter(t *testing.T) {
	a, na := router(t)
	b, _ := router(t)
	b.Close()
	c := New(a.URL, WithMoreEndpoints(b.URL))
	for range 3 {
		if res, err := c.At(0).Do(context.Background(), chatCall(false)); err != nil || res.Endpoint != a.URL {
			t.Fatalf("pinned call: %v at %q", err, res.Endpoint)
		}
	}
	if na.Load() != 3 {
		t.Errorf("router 0 saw %d calls, want 3", na.Load())
	}
	res, err := c.At(1).Do(context.Background(), chatCall(false))
	if err == nil || res.Endpoint != b.URL {
		t.Fatalf("a call to a closed router: %v at %q", err, res.Endpoint)
	}
	if want := "at " + b.URL; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}
