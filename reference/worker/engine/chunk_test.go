package engine

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// prefillLog records the prompt tokens each step prefilled.
type prefillLog struct {
	mu    sync.Mutex
	steps []int
}

func (p *prefillLog) ObserveStep(_, prefill int, _ time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.steps = append(p.steps, prefill)
}

// prefilled returns the steps that prefilled anything, in order.
func (p *prefillLog) prefilled() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for _, n := range p.steps {
		if n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func TestPrefillBudgetChunksALongPrompt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget int
		want   []int
	}{
		{"chunked", 100, []int{100, 100, 100, 50}},
		{"unchunked", 0, []int{350}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.PrefillBudget = tc.budget
			log := &prefillLog{}
			e := newEngine(t, cfg, log)
			start(t, e)
			ch, err := e.Submit(context.Background(), Request{Salt: []byte("t"), Prompt: prompt(0, 350), MaxTokens: 2})
			if err != nil {
				t.Fatal(err)
			}
			text, final := collect(t, ch)
			if final.Err != nil || final.Usage.CompletionTokens != 2 || text == "" {
				t.Fatalf("final %+v text %q, want two tokens and no error", final, text)
			}
			if got := log.prefilled(); !slices.Equal(got, tc.want) {
				t.Fatalf("prefill per step %v, want %v", got, tc.want)
			}
		})
	}
}

// firstTokens submits a long then a short prompt to one engine and returns when each got its
// first token.
func firstTokens(t *testing.T, cfg Config) (long, short time.Time) {
	t.Helper()
	e := newEngine(t, cfg, nil)
	start(t, e)
	var wg sync.WaitGroup
	first := func(ch <-chan Event, at *time.Time) {
		wg.Go(func() {
			ev := next(t, ch)
			*at = time.Now()
			if ev.Done {
				t.Errorf("stream ended before its first token: %+v", ev)
			}
			collect(t, ch)
		})
	}
	ch, err := e.Submit(context.Background(), Request{Salt: []byte("a"), Prompt: prompt(0, 1000), MaxTokens: 2})
	if err != nil {
		t.Fatal(err)
	}
	first(ch, &long)
	eventually(t, "the long prompt running", func() bool { return e.Stats().Running == 1 })
	ch, err = e.Submit(context.Background(), Request{Salt: []byte("b"), Prompt: prompt(5000, 10), MaxTokens: 2})
	if err != nil {
		t.Fatal(err)
	}
	first(ch, &short)
	wg.Wait()
	return long, short
}

func TestShortPromptOvertakesALongPrefill(t *testing.T) {
	cfg := baseConfig()
	cfg.PrefillBudget = 100
	cfg.Cost.PrefillPerToken = 100 * time.Microsecond // 10 ms a step: the long prompt needs 10
	long, short := firstTokens(t, cfg)
	if !short.Before(long) {
		t.Fatalf("the short prompt's first token came %v after the long prompt's; shortest first should put it ahead", short.Sub(long))
	}
}

func TestArrivalOrderQueuesAShortPromptBehindALongPrefill(t *testing.T) {
	cfg := baseConfig()
	cfg.PrefillBudget = 100
	cfg.PrefillArrivalOrder = true
	cfg.Cost.PrefillPerToken = 100 * time.Microsecond
	long, short := firstTokens(t, cfg)
	if !long.Before(short) {
		t.Fatalf("the short prompt's first token came %v before the long prompt's in arrival order", long.Sub(short))
	}
}

func TestNegativePrefillBudgetIsInvalid(t *testing.T) {
	cfg := baseConfig()
	cfg.PrefillBudget = -1
	if _, err := New(cfg, nil, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("New with a negative prefill budget: %v, want ErrInvalid", err)
	}
}

func TestCancelDuringChunkedPrefill(t *testing.T) {
	cfg := baseConfig()
	cfg.PrefillBudget = 10
	cfg.Cost.PrefillPerToken = 100 * time.Microsecond
	e := newEngine(t, cfg, nil)
	start(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := e.Submit(ctx, Request{Salt: []byte("a"), Prompt: prompt(0, 1000), MaxTokens: 2})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the long prompt running", func() bool { return e.Stats().Running == 1 })
	cancel()
	if _, final := collect(t, ch); !errors.Is(final.Err, context.Canceled) {
		t.Fatalf("final %+v, want context.Canceled", final)
	}
	eventually(t, "its KV freed", func() bool { s := e.Stats(); return s.Running == 0 && s.KVUsedTokens == 0 })
	// The engine goes on serving after a sequence left mid-prefill.
	ch, err = e.Submit(context.Background(), Request{Salt: []byte("b"), Prompt: prompt(9000, 30), MaxTokens: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, final := collect(t, ch); final.Err != nil || final.Usage.CompletionTokens != 1 {
		t.Fatalf("final %+v after a cancelled prefill, want one token", final)
	}
}
