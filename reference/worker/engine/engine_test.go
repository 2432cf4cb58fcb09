package engine

import (
	"context"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestNewValidatesConfig(t *testing.T) {
	for field, mutate := range map[string]func(*Config){
		"MaxBatch":         func(c *Config) { c.MaxBatch = 0 },
		"MaxWaiting":       func(c *Config) { c.MaxWaiting = -1 },
		"KVCapacityTokens": func(c *Config) { c.KVCapacityTokens = 0 },
		"BlockSize":        func(c *Config) { c.BlockSize = 0 },
		"PrefillPerToken":  func(c *Config) { c.Cost.PrefillPerToken = -1 },
	} {
		cfg := baseConfig()
		mutate(&cfg)
		_, err := New(cfg, nil, nil)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: err = %v, want ErrInvalid naming the field", field, err)
		}
	}
}

func TestSubmitValidates(t *testing.T) {
	e := newEngine(t, baseConfig(), nil)
	ctx := context.Background()
	if _, err := e.Submit(ctx, Request{Prompt: prompt(0, 4), MaxTokens: 0}); !errors.Is(err, ErrInvalid) {
		t.Errorf("MaxTokens 0: %v, want ErrInvalid", err)
	}
	if _, err := e.Submit(ctx, Request{MaxTokens: 1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty prompt: %v, want ErrInvalid", err)
	}
	if _, err := e.Submit(ctx, Request{Prompt: prompt(0, 8000), MaxTokens: 193}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("8193 tokens into 8192: %v, want ErrTooLarge", err)
	}
	if _, err := e.Submit(ctx, Request{Prompt: prompt(0, 8000), MaxTokens: 192}); err != nil {
		t.Errorf("exactly capacity: %v", err)
	}
	// Regression: prompt+MaxTokens used to overflow to a negative sum, pass
	// the check and panic sizing the event channel.
	if _, err := e.Submit(ctx, Request{Prompt: prompt(0, 8), MaxTokens: math.MaxInt}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxTokens math.MaxInt: %v, want ErrTooLarge", err)
	}
}

func TestDeterministicOutput(t *testing.T) {
	e := newEngine(t, baseConfig(), nil)
	start(t, e)
	run := func(model string, seed int64) (string, Event) {
		ch, err := e.Submit(context.Background(), Request{Model: model, Prompt: prompt(0, 10), MaxTokens: 16, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return collect(t, ch)
	}
	a, final := run("m", 1)
	b, _ := run("m", 1)
	if a != b {
		t.Fatalf("same request, different output:\n%q\n%q", a, b)
	}
	if !strings.HasPrefix(a, " ") || len(strings.Fields(a)) != 16 {
		t.Fatalf("output %q: want 16 space-led words", a)
	}
	if final.FinishReason != FinishLength || final.Err != nil || final.Usage.CompletionTokens != 16 || final.Usage.PromptTokens != 10 {
		t.Fatalf("final = %+v", final)
	}
	if c, _ := run("m", 2); c == a {
		t.Fatal("different seed, same output")
	}
	if c, _ := run("other", 1); c == a {
		t.Fatal("different model, same output")
	}
}

func TestOverloaded(t *testing.T) {
	cfg := baseConfig()
	cfg.MaxWaiting = 2
	e := newEngine(t, cfg, nil) // not running: everything stays queued
	for range 2 {
		if _, err := e.Submit(context.Background(), Request{Prompt: prompt(0, 4), MaxTokens: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Submit(context.Background(), Request{Prompt: prompt(0, 4), MaxTokens: 1}); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("third submit: %v, want ErrOverloaded", err)
	}
	if w := e.Stats().Waiting; w != 2 {
		t.Fatalf("waiting = %d, want 2", w)
	}
}

func TestPrefixCacheIsTenantSalted(t *testing.T) {
	e := newEngine(t, baseConfig(), nil)
	start(t, e)
	cached := func(salt string) int {
		ch, err := e.Submit(context.Background(), Request{Salt: []byte(salt), Prompt: prompt(0, 64), MaxTokens: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, final := collect(t, ch)
		return final.Usage.CachedTokens
	}
	if n := cached("tenant-a"); n != 0 {
		t.Fatalf("first request cached %d, want 0", n)
	}
	if n := cached("tenant-a"); n != 63 { // 4 full blocks, capped at prompt-1
		t.Fatalf("repeat with same salt cached %d, want 63", n)
	}
	if n := cached("tenant-b"); n != 0 {
		t.Fatalf("other tenant cached %d, want 0", n)
	}
}

func TestCachedPromptHasShorterTTFT(t *testing.T) {
	cfg := baseConfig()
	cfg.Cost.PrefillPerToken = 200 * time.Microsecond
	e := newEngine(t, cfg, nil)
	start(t, e)
	ttft := func() (time.Duration, Event) {
		begin := time.Now()
		ch, err := e.Submit(context.Background(), Request{Salt: []byte("t"), Prompt: prompt(0, 512), MaxTokens: 2})
		if err != nil {
			t.Fatal(err)
		}
		next(t, ch)
		d := time.Since(begin)
		_, final := collect(t, ch)
		return d, final
	}
	cold, coldFinal := ttft()
	warm, warmFinal := ttft()
	if coldFinal.Usage.CachedTokens != 0 || warmFinal.Usage.CachedTokens != 511 {
		t.Fatalf("cached tokens cold=%d warm=%d, want 0 and 511", coldFinal.Usage.CachedTokens, warmFinal.Usage.CachedTokens)
	}
	if warm >= cold/2 {
		t.Fatalf("warm TTFT %v not well below cold TTFT %v", warm, cold)
	}
}

func TestBatchIsBounded(t *testing.T) {
	cfg := baseConfig()
	cfg.Cost.DecodeStepBase = time.Millisecond
	obs := &maxBatch{}
	e := newEngine(t, cfg, obs)
	var streams []<-chan Event
	for i := range 8 { // queued before Run so the first step sees all of them
		ch, err := e.Submit(context.Background(), Request{Prompt: prompt(i*100, 8), MaxTokens: 5})
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, ch)
	}
	start(t, e)
	for _, ch := range streams {
		if _, final := collect(t, ch); final.Err != nil {
			t.Fatal(final.Err)
		}
	}
	// The last step's observer runs after that step's events are sent, so wait for the engine to
	// be idle before reading what the observer saw.
	eventually(t, "idle stats", func() bool {
		s := e.Stats()
		return s.Running == 0 && s.Waiting == 0 && s.KVUsedTokens == 0 && s.Steps == 10
	})
	eventually(t, "the observer to see the last step", func() bool { _, steps := obs.get(); return steps == 10 })
	if m, steps := obs.get(); m != 4 || steps != 10 {
		t.Fatalf("max batch %d over %d steps, want 4 over 10", m, steps)
	}
}

func TestKVCapacityLimitsAdmission(t *testing.T) {
	cfg := baseConfig()
	cfg.KVCapacityTokens = 100
	cfg.Cost.DecodeStepBase = time.Millisecond
	obs := &maxBatch{}
	e := newEngine(t, cfg, obs)
	var streams []<-chan Event
	for range 4 { // 60 KV tokens each: only one fits at a time
		ch, err := e.Submit(context.Background(), Request{Prompt: prompt(0, 50), MaxTokens: 10})
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, ch)
	}
	start(t, e)
	for _, ch := range streams {
		collect(t, ch)
	}
	if m, _ := obs.get(); m != 1 {
		t.Fatalf("max batch %d, want 1", m)
	}
}

func TestCancelFreesKV(t *testing.T) {
	cfg := baseConfig()
	cfg.MaxBatch = 1
	cfg.Cost.DecodeStepBase = time.Millisecond
	e := newEngine(t, cfg, nil)
	start(t, e)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	running, err := e.Submit(ctx, Request{Prompt: prompt(0, 20), MaxTokens: 1000})
	if err != nil {
		t.Fatal(err)
	}
	next(t, running) // it is running
	wctx, wcancel := context.WithCancel(context.Background())
	defer wcancel()
	waiting, err := e.Submit(wctx, Request{Prompt: prompt(0, 20), MaxTokens: 1000})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "one running, one waiting", func() bool {
		s := e.Stats()
		return s.Running == 1 && s.Waiting == 1 && s.KVUsedTokens == 1020
	})

	wcancel()
	if _, final := collect(t, waiting); !errors.Is(final.Err, context.Canceled) || final.Usage.CompletionTokens != 0 {
		t.Fatalf("waiting final = %+v, want context.Canceled", final)
	}
	eventually(t, "waiting dropped", func() bool { return e.Stats().Waiting == 0 })

	cancel()
	_, final := collect(t, running)
	if !errors.Is(final.Err, context.Canceled) || final.FinishReason != "" {
		t.Fatalf("running final = %+v, want context.Canceled", final)
	}
	eventually(t, "KV freed", func() bool {
		s := e.Stats()
		return s.Running == 0 && s.KVUsedTokens == 0
	})
}

func TestRunStopEndsPending(t *testing.T) {
	cfg := baseConfig()
	cfg.MaxBatch = 2
	cfg.Cost.DecodeStepBase = time.Millisecond
	e := newEngine(t, cfg, nil)
	stop := start(t, e)
	var streams []<-chan Event
	for range 5 {
		ch, err := e.Submit(context.Background(), Request{Prompt: prompt(0, 8), MaxTokens: 1000})
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, ch)
	}
	eventually(t, "batch running", func() bool { return e.Stats().Running == 2 })
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	for i, ch := range streams {
		if _, final := collect(t, ch); !errors.Is(final.Err, ErrStopped) {
			t.Fatalf("stream %d final = %+v, want ErrStopped", i, final)
		}
	}
	if _, err := e.Submit(context.Background(), Request{Prompt: prompt(0, 8), MaxTokens: 1}); !errors.Is(err, ErrStopped) {
		t.Fatalf("Submit after stop: %v, want ErrStopped", err)
	}
	if err := e.Run(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("second Run: %v, want ErrStopped", err)
	}
	if s := e.Stats(); s.Running != 0 || s.Waiting != 0 || s.KVUsedTokens != 0 {
		t.Fatalf("stats after stop = %+v", s)
	}
}

func TestSubmitWithDoneContext(t *testing.T) {
	e := newEngine(t, baseConfig(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Submit(ctx, Request{Prompt: prompt(0, 4), MaxTokens: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit = %v, want context.Canceled", err)
	}
}

func TestCancellationLeaksNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg := baseConfig()
	cfg.MaxBatch = 2
	cfg.Cost.DecodeStepBase = 100 * time.Microsecond
	e := newEngine(t, cfg, nil)
	stop := start(t, e)
	for i := range 16 {
		ctx, cancel := context.WithCancel(context.Background())
		ch, err := e.Submit(ctx, Request{Prompt: prompt(i, 8), MaxTokens: 1000})
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, final := collect(t, ch); !errors.Is(final.Err, context.Canceled) {
			t.Fatalf("final = %+v, want context.Canceled", final)
		}
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	eventually(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}
