package routing

import (
	"context"
	"errors"
	"testing"
)

// TestAddTakesWorkOnceHealthyAndRemoveDrains: a worker added at run time is picked only once a
// poll found it healthy; Remove stops new picks at once, waits for the lease it holds, and leaves
// the model served by the others. Capacity leaves elastic workers out.
func TestAddTakesWorkOnceHealthyAndRemoveDrains(t *testing.T) {
	addrA, _ := startWorker(t, "a", 4, "m")
	p := newPool(t, Options{Endpoints: []Endpoint{{ID: "a", Address: addrA, Models: []string{"m"}}}})
	run(t, p)
	waitFor(t, "a healthy", func() bool { return p.healthyCount() == 1 })
	addrB, _ := startWorker(t, "b", 4, "m")
	b, err := p.Add(Endpoint{ID: "b", Address: addrB, Models: []string{"m"}, Elastic: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Add(Endpoint{ID: "b", Address: addrB, Models: []string{"m"}}); !errors.Is(err, ErrOptions) {
		t.Fatalf("a second worker b was added: %v", err)
	}
	waitFor(t, "b healthy", b.Healthy)
	if c := p.Capacity(); c != 4 {
		t.Fatalf("capacity %d with an elastic worker, want a's 4 only", c)
	}
	// Lease a (least outstanding ties rotate), then b must be picked next: it takes work.
	seen := map[string]*Lease{}
	for len(seen) < 2 {
		l, err := p.Pick("m", 0)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[l.Worker.ID]; ok {
			prev.Done()
		}
		seen[l.Worker.ID] = l
	}
	held := seen["b"]
	removed := make(chan error, 1)
	go func() { removed <- p.Remove(context.Background(), "b") }()
	waitFor(t, "b out of the set", func() bool { return !p.set.Load().has("b") })
	select {
	case err := <-removed:
		t.Fatalf("Remove returned (%v) while b still held a lease", err)
	default:
	}
	for range 8 {
		l, err := p.Pick("m", 0)
		if err != nil {
			t.Fatal(err)
		}
		if l.Worker.ID == "b" {
			t.Fatal("a removed worker was picked")
		}
		l.Done()
	}
	held.Done()
	if err := <-removed; err != nil {
		t.Fatal(err)
	}
	if err := p.Remove(context.Background(), "b"); !errors.Is(err, ErrRemoved) {
		t.Fatalf("removing b twice: %v", err)
	}
	seen["a"].Done()
}

// TestAddAfterCloseIsRefused: a worker added once the pool has closed would hold a connection no
// Close ever closes, so Add refuses it (and closes what it dialled).
func TestAddAfterCloseIsRefused(t *testing.T) {
	addrA, _ := startWorker(t, "a", 4, "m")
	p := newPool(t, Options{Endpoints: []Endpoint{{ID: "a", Address: addrA, Models: []string{"m"}}}})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Add(Endpoint{ID: "b", Address: addrA, Models: []string{"m"}, Elastic: true}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Close = %v, want ErrClosed", err)
	}
	if n := len(p.Workers()); n != 1 {
		t.Fatalf("the closed pool has %d workers, want 1", n)
	}
}
