package routing

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// capacityLog records OnChange calls.
type capacityLog struct {
	mu   sync.Mutex
	seen []int
}

func (c *capacityLog) record(n int) { c.mu.Lock(); c.seen = append(c.seen, n); c.mu.Unlock() }

func (c *capacityLog) last() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) == 0 {
		return -1
	}
	return c.seen[len(c.seen)-1]
}

func TestRunMarksRealWorkersHealthy(t *testing.T) {
	a, _ := startWorker(t, "wa", 4, "m")
	b, _ := startWorker(t, "wb", 6, "m", "m2")
	p := newPool(t, Options{Endpoints: []Endpoint{
		{ID: "wa", Address: a, Models: []string{"m"}},
		{ID: "wb", Address: b, Models: []string{"m", "m2"}},
	}})
	var caps capacityLog
	p.OnChange(caps.record)
	if p.Capacity() != 0 || p.Workers()[0].Healthy() {
		t.Fatal("a worker is healthy before any poll")
	}
	runHealthy(t, p, 2)
	if got := p.Capacity(); got != 10 {
		t.Errorf("Capacity = %d, want 4+6", got)
	}
	waitFor(t, "OnChange(10)", func() bool { return caps.last() == 10 })
	for _, w := range p.Workers() {
		if h := w.Health(); h.GetWorker() != w.ID || !h.GetHealthy() {
			t.Errorf("%s last health = %v", w.ID, h)
		}
	}
	// The leased worker really serves: the bearer credential reaches it.
	l, err := p.Pick("m2", 0)
	if err != nil || l.Worker.ID != "wb" {
		t.Fatalf("Pick(m2) = %v, %v; want wb", l, err)
	}
	defer l.Done()
}

func TestStoppedWorkerLeavesRotation(t *testing.T) {
	a, stopA := startWorker(t, "wa", 4, "m")
	b, _ := startWorker(t, "wb", 4, "m")
	p := newPool(t, Options{Endpoints: []Endpoint{
		{ID: "wa", Address: a, Models: []string{"m"}},
		{ID: "wb", Address: b, Models: []string{"m"}},
	}})
	var caps capacityLog
	p.OnChange(caps.record)
	runHealthy(t, p, 2)
	wa := p.Workers()[0]

	stopA()
	// Within a few intervals; bounded well above that so -race cannot flake.
	waitWithin(t, 50*testInterval, "wa to leave rotation", func() bool { return !wa.Healthy() })
	if wa.Err() == nil {
		t.Error("unhealthy worker has no error")
	}
	waitFor(t, "OnChange(4)", func() bool { return caps.last() == 4 })
	for range 5 {
		l, err := p.Pick("m", 0)
		if err != nil || l.Worker.ID != "wb" {
			t.Fatalf("Pick = %v, %v; want wb only", l, err)
		}
	}
}

func TestHealthFollowsWhatTheWorkerSays(t *testing.T) {
	f := &fakeWorker{}
	f.maxBatch.Store(8)
	p := newPool(t, Options{Endpoints: []Endpoint{{ID: "fake", Address: startFake(t, f), Models: []string{"m"}}}})
	var caps capacityLog
	p.OnChange(caps.record)
	run(t, p)
	w := p.Workers()[0]

	waitFor(t, "a poll", func() bool { return w.Health() != nil })
	if w.Healthy() || !errors.Is(w.Err(), errReportedUnhealthy) {
		t.Errorf("healthy=false answer: Healthy %v, Err %v", w.Healthy(), w.Err())
	}
	if got, _ := f.auth.Load().([]string); !slices.Equal(got, []string{"Bearer " + testToken}) {
		t.Errorf("authorization metadata = %q", got)
	}

	f.healthy.Store(true)
	waitFor(t, "healthy", w.Healthy)
	waitFor(t, "OnChange(8)", func() bool { return caps.last() == 8 })

	f.maxBatch.Store(3) // capacity follows max_batch changes, not only health flips
	waitFor(t, "OnChange(3)", func() bool { return caps.last() == 3 })

	f.fail.Store(true)
	waitFor(t, "unhealthy on error", func() bool { return !w.Healthy() })
	if status.Code(w.Err()) != codes.Internal {
		t.Errorf("Err = %v, want the Health error", w.Err())
	}
	waitFor(t, "OnChange(0)", func() bool { return caps.last() == 0 })

	f.fail.Store(false)
	waitFor(t, "healthy again", w.Healthy)

	// MarkUnhealthy takes effect at once and the next poll undoes it.
	w.MarkUnhealthy(errInjected)
	if w.Healthy() || !errors.Is(w.Err(), errInjected) {
		t.Errorf("after MarkUnhealthy: Healthy %v, Err %v", w.Healthy(), w.Err())
	}
	waitFor(t, "restored by a poll", w.Healthy)
}

func TestWrongTokenKeepsWorkersOut(t *testing.T) {
	a, _ := startWorker(t, "wa", 4, "m")
	p := newPool(t, Options{Token: "not-the-secret", Endpoints: []Endpoint{{ID: "wa", Address: a, Models: []string{"m"}}}})
	run(t, p)
	w := p.Workers()[0]
	waitFor(t, "a failed poll", func() bool { return w.Err() != nil })
	if w.Healthy() || status.Code(w.Err()) != codes.Unauthenticated {
		t.Errorf("Healthy %v, Err %v; want unhealthy, Unauthenticated", w.Healthy(), w.Err())
	}
}

func TestWaitHealthyGivesUp(t *testing.T) {
	p := offlinePool(t, 0, "a")
	for _, w := range p.Workers() {
		setHealthy(w, false)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if err := p.WaitHealthy(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitHealthy = %v, want DeadlineExceeded", err)
	}
	if err := p.WaitHealthy(t.Context(), 3); !errors.Is(err, ErrNoWorker) { // 2 workers
		t.Errorf("WaitHealthy(more than exist) = %v, want ErrNoWorker at once", err)
	}
	// A health change wakes a waiter.
	done := make(chan error, 1)
	go func() { done <- p.WaitHealthy(t.Context(), 1) }()
	setHealthy(p.Workers()[0], true)
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(testTimeout):
		t.Fatal("WaitHealthy did not wake on a health change")
	}
}

func TestRunRunsOnce(t *testing.T) {
	p := offlinePool(t, 0, "a")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	p.Run(ctx) // returns once its pollers see the cancelled context
	done := make(chan struct{})
	go func() { p.Run(t.Context()); close(done) }()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("a second Run did not return at once")
	}
}

// TestAnAddressThatAnswersAsAnotherWorkerStaysOut: a declared worker's address answered by a
// different worker (one restarted at the address the declared one left) is not put in rotation
// under the declared id, and its figures are not taken as the declared worker's.
func TestAnAddressThatAnswersAsAnotherWorkerStaysOut(t *testing.T) {
	addr, _ := startWorker(t, "wb", 4, "m")
	right, _ := startWorker(t, "wc", 4, "m")
	p := newPool(t, Options{Endpoints: []Endpoint{
		{ID: "wa", Address: addr, Models: []string{"m"}},
		{ID: "wc", Address: right, Models: []string{"m"}},
	}})
	runHealthy(t, p, 1)
	wa := p.Workers()[0]
	waitFor(t, "wa's poll to be judged", func() bool { return wa.Err() != nil })
	if wa.Healthy() || !errors.Is(wa.Err(), errAnotherWorker) || !strings.Contains(wa.Err().Error(), `"wb"`) {
		t.Fatalf("wa answered by wb: healthy %v, err %v", wa.Healthy(), wa.Err())
	}
	if h := wa.Health(); h != nil && h.GetWorker() == "wb" {
		t.Errorf("wb's answer is kept as wa's health: %v", h)
	}
	for range 5 {
		l, err := p.Pick("m", 0)
		if err != nil || l.Worker.ID != "wc" {
			t.Fatalf("Pick = %v, %v; want wc only", l, err)
		}
		l.Done()
	}
}
