package routing

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestPickSpreadsByOutstanding(t *testing.T) {
	p := offlinePool(t, 0, "a", "b", "c")
	var leases []*Lease
	for range 9 {
		l, err := p.Pick("m", 0)
		if err != nil {
			t.Fatal(err)
		}
		leases = append(leases, l)
	}
	for _, w := range p.Workers()[:3] {
		if w.Outstanding() != 3 {
			t.Errorf("%s has %d outstanding, want 3 of 9 each", w.ID, w.Outstanding())
		}
	}
	// Freeing two on one worker makes it the least loaded.
	var freed *Worker
	for _, l := range leases {
		if l.Worker.ID == "b" && l.Worker.Outstanding() > 1 {
			l.Done()
			freed = l.Worker
		}
	}
	if freed == nil || freed.Outstanding() != 1 {
		t.Fatalf("b outstanding = %v, want 1", freed)
	}
	for range 2 {
		if l, _ := p.Pick("m", 0); l.Worker.ID != "b" {
			t.Errorf("picked %s, want the least loaded b", l.Worker.ID)
		}
	}
}

func TestPickSkipsUnhealthyWorkers(t *testing.T) {
	p := offlinePool(t, 0, "a", "b")
	a := p.Workers()[0]
	a.MarkUnhealthy(errInjected)
	for range 4 {
		if l, err := p.Pick("m", AffinityKey("t", "x")); err != nil || l.Worker.ID != "b" {
			t.Fatalf("Pick = %v, %v; want b while a is unhealthy", l, err)
		}
	}
	if !errors.Is(a.Err(), errInjected) {
		t.Errorf("a.Err() = %v, want the error it was marked with", a.Err())
	}
}

func TestPickAffinity(t *testing.T) {
	const slack = 2
	p := offlinePool(t, slack, "a", "b")
	key := AffinityKey("acme", "You are a helpful assistant. Here is the document:")

	// Equal loads: the same key always lands on the same worker.
	first, err := p.Pick("m", key)
	if err != nil {
		t.Fatal(err)
	}
	home := first.Worker
	first.Done()
	for range 20 {
		l, _ := p.Pick("m", key)
		if l.Worker != home {
			t.Fatalf("key moved from %s to %s under equal load", home.ID, l.Worker.ID)
		}
		l.Done()
	}

	// Different keys spread over both workers.
	seen := map[string]int{}
	for i := range 200 {
		l, _ := p.Pick("m", AffinityKey("acme", fmt.Sprint("prompt ", i)))
		seen[l.Worker.ID]++
		l.Done()
	}
	if seen["a"] < 50 || seen["b"] < 50 {
		t.Errorf("200 keys split %v, want both workers to get a fair share", seen)
	}

	// Affinity holds while home is within the slack of the other worker,
	// then gives way to load.
	for i := range slack + 1 {
		if l, _ := p.Pick("m", key); l.Worker != home {
			t.Fatalf("pick %d went to %s with home at %d outstanding (slack %d)", i, l.Worker.ID, home.Outstanding()-1, slack)
		}
	}
	l, _ := p.Pick("m", key)
	if l.Worker == home {
		t.Errorf("home at %d outstanding vs 0 still chosen beyond slack %d", home.Outstanding()-1, slack)
	}
}

func TestPickErrorsAreDistinct(t *testing.T) {
	p := offlinePool(t, 0, "a")
	_, err := p.Pick("nobody-serves-this", 0)
	if !errors.Is(err, ErrUnknownModel) || errors.Is(err, ErrNoWorker) {
		t.Errorf("unknown model: %v, want ErrUnknownModel only", err)
	}
	setHealthy(p.Workers()[0], false)
	_, err = p.Pick("m", 0)
	if !errors.Is(err, ErrNoWorker) || errors.Is(err, ErrUnknownModel) {
		t.Errorf("no healthy worker: %v, want ErrNoWorker only", err)
	}
	if !strings.Contains(err.Error(), `"m"`) {
		t.Errorf("error %q does not name the model", err)
	}
}

func TestLeaseDoneIsIdempotent(t *testing.T) {
	p := offlinePool(t, 0, "a")
	l1, _ := p.Pick("m", 0)
	l2, _ := p.Pick("m", 0)
	w := l1.Worker
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(l1.Done)
	}
	wg.Wait()
	if w.Outstanding() != 1 {
		t.Errorf("outstanding = %d after one lease done many times, want 1", w.Outstanding())
	}
	l2.Done()
	l2.Done()
	if w.Outstanding() != 0 {
		t.Errorf("outstanding = %d, want 0", w.Outstanding())
	}
}

func TestPickIsSafeForConcurrentUse(t *testing.T) {
	p := offlinePool(t, 1, "a", "b", "c")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				l, err := p.Pick("m", uint64(g*1000+i))
				if err != nil {
					t.Error(err)
					return
				}
				l.Done()
			}
		})
	}
	wg.Wait()
	for _, w := range p.Workers() {
		if w.Outstanding() != 0 {
			t.Errorf("%s outstanding = %d after all leases done", w.ID, w.Outstanding())
		}
	}
}

func TestAffinityKey(t *testing.T) {
	base := AffinityKey("acme", "system prompt")
	if base != AffinityKey("acme", "system prompt") {
		t.Error("not deterministic")
	}
	if base == AffinityKey("globex", "system prompt") {
		t.Error("two tenants share a key")
	}
	if AffinityKey("ab", "c") == AffinityKey("a", "bc") {
		t.Error("the separator does not separate tenant from prompt")
	}
	long := strings.Repeat("x", AffinityPrefixBytes)
	if AffinityKey("acme", long+"tail one") != AffinityKey("acme", long+"tail two") {
		t.Error("bytes past AffinityPrefixBytes change the key")
	}
	if AffinityKey("acme", long[1:]+"a") == AffinityKey("acme", long[1:]+"b") {
		t.Error("the last counted byte does not change the key")
	}
	if AffinityKey("", "") == 0 {
		t.Error("key is 0, which means no affinity")
	}
}

func BenchmarkPick(b *testing.B) {
	p := offlinePool(b, 2, "a", "b")
	key := AffinityKey("acme", "shared system prompt")
	b.ReportAllocs()
	for b.Loop() {
		l, err := p.Pick("m", key)
		if err != nil {
			b.Fatal(err)
		}
		l.Done()
	}
}

func TestServes(t *testing.T) {
	p := offlinePool(t, 0, "a", "b")
	if !p.Serves("m") {
		t.Fatal("healthy pool does not serve its model")
	}
	if p.Serves("absent") {
		t.Fatal("pool serves a model no worker has")
	}
	for _, w := range p.Workers() {
		if w.ID != "other" {
			w.MarkUnhealthy(errInjected)
		}
	}
	if p.Serves("m") {
		t.Fatal("pool with every worker unhealthy still serves")
	}
}

// TestPickAffinityGivesWayToAFreeBatchSlot: within the slack, affinity still gives way when its
// worker's batch is full and another worker has a free slot, since the wait for a sequence to
// finish costs more than a prefix-cache miss; when every batch is full, affinity holds.
func TestPickAffinityGivesWayToAFreeBatchSlot(t *testing.T) {
	const slack = 8 // larger than the batch (4), so only the batch rule moves the key
	p := offlinePool(t, slack, "a", "b")
	key := AffinityKey("acme", "a shared system prompt")
	first, _ := p.Pick("m", key)
	home := first.Worker
	for range 3 { // home's batch of 4 is now full
		if l, _ := p.Pick("m", key); l.Worker != home {
			t.Fatalf("went to %s with home's batch not yet full", l.Worker.ID)
		}
	}
	l, _ := p.Pick("m", key)
	if l.Worker == home {
		t.Fatalf("home's batch is full (%d of 4) and the other worker idle, yet home was chosen", home.Outstanding()-1)
	}
	for range 3 { // now the other worker's batch is full too
		if _, err := p.Pick("m", AffinityKey("acme", "elsewhere")); err != nil {
			t.Fatal(err)
		}
	}
	var other *Worker
	for _, w := range p.Workers() {
		if w != home && w.ID != "other" {
			other = w
		}
	}
	if other.Outstanding() < 4 {
		t.Fatalf("setup: other worker has %d, want a full batch", other.Outstanding())
	}
	if l, _ := p.Pick("m", key); l.Worker != home {
		t.Errorf("every batch full, and the key left home for %s", l.Worker.ID)
	}
}
