package autoscale

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGroup is a group whose load the test sets; Add takes warmUp.
type fakeGroup struct {
	mu      sync.Mutex
	workers int
	waiting int
	warmUp  time.Duration
	added   int
	fail    error // Add's error, when set
}

func (g *fakeGroup) Observe(context.Context) Observation {
	g.mu.Lock()
	defer g.mu.Unlock()
	return Observation{At: time.Now(), Workers: g.workers, Waiting: g.waiting, Running: 2 * g.workers, Capacity: 2 * g.workers}
}

func (g *fakeGroup) Add(ctx context.Context) error {
	if g.fail != nil {
		return g.fail
	}
	select {
	case <-time.After(g.warmUp):
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.workers++
	g.added++
	return nil
}

func (g *fakeGroup) Remove(context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.workers--
	return nil
}

func (g *fakeGroup) count() (workers, added int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.workers, g.added
}

// TestControllerScalesToMaxRecordsAndStops: persistent pressure brings the group to Max, one
// recorded decision per added worker, and Run returns once its context ends.
func TestControllerScalesToMaxRecordsAndStops(t *testing.T) {
	g := &fakeGroup{workers: 1, waiting: 4, warmUp: 10 * time.Millisecond}
	var mu sync.Mutex
	var recorded []Decision
	c := &Controller{Group: g, Interval: 5 * time.Millisecond,
		Policy: Policy{Min: 1, Max: 3, ScaleOutAfter: 20 * time.Millisecond, ScaleInAfter: time.Hour, Cooldown: 10 * time.Millisecond},
		Record: func(_ context.Context, d Decision, _ Observation) error {
			mu.Lock()
			defer mu.Unlock()
			recorded = append(recorded, d)
			return nil
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.After(5 * time.Second)
	for {
		if w, _ := g.count(); w == 3 {
			break
		}
		select {
		case <-deadline:
			t.Fatal("the group never reached max_workers under persistent pressure")
		case <-time.After(5 * time.Millisecond):
		}
	}
	time.Sleep(50 * time.Millisecond) // pressure persists: it must not go past Max
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if w, added := g.count(); w != 3 || added != 2 {
		t.Fatalf("%d workers after %d adds, want 3 after 2", w, added)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(recorded) != 2 || recorded[0].Want != 2 || recorded[1].Want != 3 {
		t.Fatalf("recorded %+v, want two scale-outs to 2 and 3", recorded)
	}
}

func TestControllerRefusesNoInterval(t *testing.T) {
	if err := (&Controller{Group: &fakeGroup{}}).Run(context.Background()); err == nil {
		t.Fatal("a controller without an interval ran")
	}
}

// TestControllerRecordsAFailedAdd: a scale-out whose Add fails is recorded after the attempt,
// with the workers the group still has and the failure in its reason, never as capacity added.
func TestControllerRecordsAFailedAdd(t *testing.T) {
	g := &fakeGroup{workers: 1, waiting: 4, fail: errors.New("no health within the bound")}
	got := make(chan Decision, 16)
	c := &Controller{Group: g, Interval: 5 * time.Millisecond,
		Policy: Policy{Min: 1, Max: 3, ScaleOutAfter: 10 * time.Millisecond, ScaleInAfter: time.Hour, Cooldown: time.Hour},
		Record: func(_ context.Context, d Decision, _ Observation) error {
			select {
			case got <- d:
			default:
			}
			return nil
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	select {
	case d := <-got:
		if d.Action != ScaleOut || d.Want != 1 || !strings.Contains(d.Reason, "no health within the bound") {
			t.Fatalf("recorded %+v, want a scale_out at 1 worker naming the failure", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a failed scale-out was never recorded")
	}
}
