package driver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
)

// healthRouter is a fake router whose /healthz answers 200 while up is true and 503 otherwise; every
// other call is refused and counted.
func healthRouter(t *testing.T, up *atomic.Bool) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PathHealthz {
			if up.Load() {
				w.WriteHeader(http.StatusOK)
				return
			}
			errorBody(w, http.StatusServiceUnavailable, outcome.Shed, outcome.ReasonDraining)
			return
		}
		n.Add(1)
		errorBody(w, http.StatusServiceUnavailable, outcome.Shed, outcome.ReasonCapacity)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestOnlyReadySkipsUnreadyRouters: with one router reporting unready, every call goes to the
// other; once it is ready again (as the watcher sees it) calls split again; and the watcher
// records each change.
func TestOnlyReadySkipsUnreadyRouters(t *testing.T) {
	var upA, upB atomic.Bool
	upA.Store(true)
	a, na := healthRouter(t, &upA)
	b, nb := healthRouter(t, &upB)
	c := New(a.URL, WithMoreEndpoints(b.URL))
	w := WatchReadiness(nil, c.Endpoints(), 10*time.Millisecond)
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.AwaitReady(ctx, a.URL); err != nil {
		t.Fatal(err)
	}
	lb := c.OnlyReady(w.Ready)
	for range 10 {
		if _, err := lb.Do(ctx, chatCall(false)); err != nil {
			t.Fatal(err)
		}
	}
	if na.Load() != 10 || nb.Load() != 0 {
		t.Fatalf("with %s unready the routers saw %d and %d calls, want 10 and 0", b.URL, na.Load(), nb.Load())
	}
	upB.Store(true)
	if err := w.AwaitReady(ctx, b.URL); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := lb.Do(ctx, chatCall(false)); err != nil {
			t.Fatal(err)
		}
	}
	if na.Load() != 15 || nb.Load() != 5 {
		t.Fatalf("with both ready the routers saw %d and %d calls in all, want 15 and 5", na.Load(), nb.Load())
	}
	if c.routes.ready != nil {
		t.Fatal("OnlyReady changed the Client it was called on")
	}
	var sawB bool
	for _, ch := range w.Changes() {
		if ch.Base == b.URL && ch.Ready {
			sawB = true
		}
	}
	if !sawB {
		t.Fatalf("changes %v do not record %s becoming ready", w.Changes(), b.URL)
	}
}

// TestPickReadyWithNoneReadyKeepsTurns: when no router is ready, calls still take turns rather
// than piling on one router.
func TestPickReadyWithNoneReadyKeepsTurns(t *testing.T) {
	bases := []string{"a", "b", "c"}
	none := func(string) bool { return false }
	onlyC := func(b string) bool { return b == "c" }
	for n := range uint64(6) {
		if got := pickReady(bases, n, none); got != bases[n%3] {
			t.Errorf("none ready, turn %d: %s, want %s", n, got, bases[n%3])
		}
		if got := pickReady(bases, n, onlyC); got != "c" {
			t.Errorf("only c ready, turn %d: %s", n, got)
		}
	}
}

// TestReadinessTellsNoticeFromAbsence: a router answering 503 is not ready but answered (its
// notice); once its port is closed it is not ready and unanswered, and that is a change too.
func TestReadinessTellsNoticeFromAbsence(t *testing.T) {
	var up atomic.Bool
	up.Store(true)
	srv, _ := healthRouter(t, &up)
	w := WatchReadiness(nil, []string{srv.URL}, 10*time.Millisecond)
	defer w.Stop()
	await := func(what string, cond func(Change) bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for {
			if cs := w.Changes(); len(cs) > 0 && cond(cs[len(cs)-1]) {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("no change to %s; changes %+v", what, w.Changes())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	await("ready", func(c Change) bool { return c.Ready && c.Answered })
	up.Store(false)
	await("not ready, answered", func(c Change) bool { return !c.Ready && c.Answered })
	srv.Close()
	await("not answered", func(c Change) bool { return !c.Ready && !c.Answered })
	cs := w.Changes()
	for i := 1; i < len(cs); i++ {
		if cs[i].Probe <= cs[i-1].Probe {
			t.Fatalf("probe numbers do not grow: %+v", cs)
		}
	}
	if cs[0].Probe != 1 {
		t.Errorf("the first change is probe %d, want 1", cs[0].Probe)
	}
}
