package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/reference/tokenizer"
	"github.com/aruntime/arcert/reference/worker/prefixcache"
)

// testTimeout bounds every wait in these tests; it is generous because
// -race slows the loop down, and tests never wait for it on success.
const testTimeout = 10 * time.Second

// baseConfig is a small zero-cost engine; tests override what they exercise.
func baseConfig() Config {
	return Config{MaxBatch: 4, MaxWaiting: 16, KVCapacityTokens: 8192, BlockSize: 16}
}

// newEngine builds an engine without starting it.
func newEngine(t *testing.T, cfg Config, obs Observer) *Engine {
	t.Helper()
	e, err := New(cfg, prefixcache.New(1024), obs)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// start runs e until the test ends and returns a func that stops it and
// returns Run's error.
func start(t *testing.T, e *Engine) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- e.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(testTimeout):
				t.Error("Run did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// prompt returns n distinct tokens starting at from.
func prompt(from, n int) []tokenizer.Token {
	p := make([]tokenizer.Token, n)
	for i := range p {
		p[i] = tokenizer.Token(from + i)
	}
	return p
}

// collect reads a stream to its final event and returns the text and final
// event.
func collect(t *testing.T, ch <-chan Event) (string, Event) {
	t.Helper()
	var text string
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("stream closed without a final event")
			}
			if ev.Done {
				if _, open := <-ch; open {
					t.Fatal("event after the final event")
				}
				return text, ev
			}
			text += ev.Text
		case <-deadline.C:
			t.Fatal("timed out waiting for the final event")
		}
	}
}

// next reads one event with a deadline.
func next(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(testTimeout):
		t.Fatal("timed out waiting for an event")
		return Event{}
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// maxBatch records the largest batch the engine ran.
type maxBatch struct {
	mu    sync.Mutex
	max   int
	steps int
}

func (m *maxBatch) ObserveStep(batch, _ int, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.max = max(m.max, batch)
	m.steps++
}

func (m *maxBatch) get() (int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.max, m.steps
}

var _ Observer = (*maxBatch)(nil)
