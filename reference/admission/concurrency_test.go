package admission

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// loadClients is the number of concurrent clients in the load tests.
const loadClients = 200

// depthRecorder wraps a harness's enqueue hook to record the deepest queue ever seen.
func depthRecorder(c *Controller) (maxDepth func() int) {
	var mu sync.Mutex
	deepest := 0
	c.onEnqueue = func(_ string, depth int) {
		mu.Lock()
		defer mu.Unlock()
		deepest = max(deepest, depth)
	}
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return deepest
	}
}

// receive takes one client's result, failing the test rather than hanging if none comes.
func receive(t *testing.T, results <-chan error) error {
	t.Helper()
	select {
	case err := <-results:
		return err
	case <-time.After(testTimeout):
		t.Fatal("a client never returned")
		return nil
	}
}

// With both slots held, exactly QueueCapacity of the concurrent clients queue and the rest are
// shed; once the slots free, every queued client runs.
func TestQueueBoundExact(t *testing.T) {
	cfg := testConfig()
	cfg.Capacity, cfg.Classes[1].QueueCapacity = 2, 5
	h := newHarness(t, cfg)
	maxDepth := depthRecorder(h.c)
	held := []*Ticket{h.admit(t, req(interactive)), h.admit(t, req(interactive))}
	ctx := bounded(t)

	results := make(chan error, loadClients)
	for range loadClients {
		go func() {
			tk, err := h.c.Admit(ctx, req(interactive))
			if err == nil {
				tk.Release()
			}
			results <- err
		}()
	}
	full := 0
	for range loadClients - 5 {
		if err := receive(t, results); !errors.Is(err, ErrQueueFull) {
			t.Fatalf("with both slots held: %v, want ErrQueueFull", err)
		}
		full++
	}
	if s := h.c.Snapshot(); s.Queued[interactive] != 5 {
		t.Fatalf("queued = %d, want 5", s.Queued[interactive])
	}
	for _, tk := range held {
		tk.Release()
	}
	for range 5 {
		if err := receive(t, results); err != nil {
			t.Fatalf("queued client: %v, want a ticket", err)
		}
	}
	if got := maxDepth(); got != 5 {
		t.Errorf("deepest queue = %d, want 5", got)
	}
}

// Under free-running load every client either runs or is shed, and no queue ever exceeds its
// bound.
func TestQueueBoundUnderLoad(t *testing.T) {
	cfg := testConfig()
	cfg.Capacity, cfg.Classes[0].QueueCapacity, cfg.Classes[1].QueueCapacity = 2, 5, 5
	cfg.Tenants[0].MaxConcurrency = loadClients
	h := newHarness(t, cfg)
	maxDepth := depthRecorder(h.c)
	ctx := bounded(t)

	start := make(chan struct{})
	results := make(chan error, loadClients)
	for n := range loadClients {
		class := []string{interactive, batch}[n%2]
		go func() {
			<-start
			tk, err := h.c.Admit(ctx, req(class))
			if err == nil {
				runtime.Gosched() // hold the slot briefly so others must queue
				tk.Release()
			}
			results <- err
		}()
	}
	close(start)
	tickets, shed := 0, 0
	for range loadClients {
		switch err := receive(t, results); {
		case err == nil:
			tickets++
		case errors.Is(err, ErrQueueFull):
			shed++
		default:
			t.Fatalf("unexpected error under load: %v", err)
		}
	}
	if tickets+shed != loadClients || maxDepth() > 5 {
		t.Fatalf("%d tickets + %d shed of %d, deepest queue %d (bound 5)", tickets, shed, loadClients, maxDepth())
	}
	if s := h.c.Snapshot(); s.InFlight != 0 || s.Queued[interactive]+s.Queued[batch] != 0 {
		t.Fatalf("after load: %+v", s)
	}
	t.Logf("%d tickets, %d shed, deepest queue %d", tickets, shed, maxDepth())
}

// raceRounds is how many times the grant-versus-context race is provoked.
const raceRounds = 500

// A slot granted at the moment the waiter's context ends is never leaked: either the waiter gets
// the ticket, or the slot goes back to the pool.
func TestGrantRacesContextEnd(t *testing.T) {
	h := newHarness(t, testConfig())
	var won, lost int
	for range raceRounds {
		held := h.admit(t, req(interactive))
		ctx, cancel := context.WithCancel(context.Background())
		w := h.queue(t, ctx, req(interactive))
		var wg sync.WaitGroup
		wg.Go(held.Release)
		wg.Go(cancel)
		wg.Wait()
		switch res := await(t, w); {
		case res.err == nil:
			won++
			res.ticket.Release()
		case errors.Is(res.err, context.Canceled):
			lost++
		default:
			t.Fatalf("raced waiter: %v", res.err)
		}
		if s := h.c.Snapshot(); s.InFlight != 0 || s.Queued[interactive] != 0 {
			t.Fatalf("after a race: %+v, want nothing held or queued", s)
		}
	}
	t.Logf("of %d races, %d waiters got the slot and %d gave it back", raceRounds, won, lost)
}

// Many clients with random deadlines, while capacity changes, leave nothing held, queued or
// running once they are done: no slot, tenant count or goroutine leaks.
func TestChurnLeavesNothingBehind(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg := testConfig()
	cfg.Capacity, cfg.Tenants[0].MaxConcurrency = 2, loadClients
	h := newHarness(t, cfg)
	h.c.onEnqueue = nil
	h.c.now = time.Now // real refill; the quota is far above this load

	stop := make(chan struct{})
	var resizer sync.WaitGroup
	resizer.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
				h.c.SetCapacity(n % 4)
				runtime.Gosched()
			}
		}
	})
	var clients sync.WaitGroup
	for n := range loadClients {
		class := []string{interactive, batch}[n%2]
		clients.Go(func() {
			for range 10 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(200))*time.Microsecond)
				tk, err := h.c.Admit(ctx, req(class))
				cancel()
				if err == nil {
					tk.Release()
					tk.Release()
				} else if !errors.Is(err, ErrDeadline) && !errors.Is(err, ErrQueueFull) {
					t.Errorf("churn: %v", err)
				}
			}
		})
	}
	clients.Wait()
	close(stop)
	resizer.Wait()

	h.c.SetCapacity(2)
	if s := h.c.Snapshot(); s.InFlight != 0 || s.Queued[interactive]+s.Queued[batch] != 0 {
		t.Fatalf("after churn: %+v", s)
	}
	if q, _ := h.c.Quota(acme); q.InFlight != 0 || q.Queued != 0 {
		t.Fatalf("tenant after churn: %+v", q)
	}
	h.admit(t, req(interactive)) // both slots are free again
	h.admit(t, req(interactive))
	deadline := time.Now().Add(testTimeout)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before the test", runtime.NumGoroutine(), before)
		}
		runtime.Gosched()
	}
}
