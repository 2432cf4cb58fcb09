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
// and counts the calls that reached it, and apart the model listings.
func router(t *testing.T) (*httptest.Server, *atomic.Int64, *atomic.Int64) {
	t.Helper()
	var n, models atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			models.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"data":[]}`))
			return
		}
		n.Add(1)
		errorBody(w, http.StatusServiceUnavailable, outcome.Shed, outcome.ReasonCapacity)
	}))
	t.Cleanup(srv.Close)
	return srv, &n, &models
}

// TestSpreadTakesTurns: calls from many goroutines at once split evenly over two routers, and
// each Result names the router its call reached; a JSON exchange takes a turn when it posts to a
// completions path, and stays on the primary otherwise.
func TestSpreadTakesTurns(t *testing.T) {
	a, na, ma := router(t)
	b, nb, mb := router(t)
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
		if _, _, err := c.PostJSON(context.Background(), PathCompletions+"?x=1", "", []byte("{"), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if na.Load() != calls/2+2 || nb.Load() != calls/2+2 || ma.Load() != 4 || mb.Load() != 0 {
		t.Errorf("after 4 listings and 4 raw posts the routers saw %d and %d posts, %d and %d listings; want %d each, and 4 listings at the primary",
			na.Load(), nb.Load(), ma.Load(), mb.Load(), calls/2+2)
	}
}

// TestAtPinsOneRouter: a Client pinned to one router sends every call there, and a transport
// error names the router that failed.
func TestAtPinsOneRouter(t *testing.T) {
	a, na, _ := router(t)
	b, _, _ := router(t)
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
