package routing_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	devconfig "github.com/aruntime/arcert/fixtures/config"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/runtime"
)

// The P/D benchmark's load, the same for both layouts: pdStreams interactive clients stream
// pdTokens tokens back to back for pdWindow while a long prompt of pdLongWords words (about
// 2,315 tokens with the reference tokenizer, above the dev configuration's prefill_min_tokens)
// arrives in the batch class every
// pdLongEvery, Poisson, seeded. Both layouts have two devices: the mixed pool two mixed workers,
// the split pools one decode and one prefill worker.
const (
	pdStreams   = 3
	pdTokens    = 32
	pdWindow    = 6 * time.Second
	pdLongEvery = 250 * time.Millisecond
	pdLongWords = 1433
	pdSeed      = 6
	// pdLongSlack is how many fewer long prompts one layout may serve than the other before the
	// comparison is void: a layout that serves fewer long prompts interferes less for free.
	pdLongSlack = 0.1
)

// BenchmarkPDInterference runs interactive streams beside long-prompt batch traffic against one
// mixed pool and against split prefill/decode pools in the same run, and reports the interactive
// inter-token latency p50 and p99 of both and their ratio. Run it with
// `go test -run '^$' -bench PDInterference -benchtime 1x ./reference/routing/`.
func BenchmarkPDInterference(b *testing.B) {
	for range b.N {
		mixed := runLayout(b, false)
		split := runLayout(b, true)
		if lo, hi := min(mixed.long, split.long), max(mixed.long, split.long); float64(lo) < float64(hi)*(1-pdLongSlack) {
			b.Fatalf("not comparable: the mixed pool served %d long prompts, the split pools %d", mixed.long, split.long)
		}
		if split.remotePrefill == 0 {
			b.Fatal("the split layout never prefilled on its prefill worker: nothing was disaggregated")
		}
		objective := 50 * time.Millisecond
		b.Logf("\n| layout | interactive ITL p50 | interactive ITL p99 | gaps | long prompts served | p99 within %s |\n|---|---:|---:|---:|---:|---|\n%s\n%s\nmixed/split p99 ratio: %.1fx",
			objective, mixed.row("mixed pool (2 mixed workers)", objective), split.row("split pools (1 prefill + 1 decode)", objective),
			float64(mixed.p99)/float64(max(split.p99, 1)))
		b.ReportMetric(float64(mixed.p99)/1e6, "mixed-p99-ms")
		b.ReportMetric(float64(split.p99)/1e6, "split-p99-ms")
		b.ReportMetric(float64(mixed.p50)/1e6, "mixed-p50-ms")
		b.ReportMetric(float64(split.p50)/1e6, "split-p50-ms")
	}
}

type layoutResult struct {
	p50, p99   time.Duration
	gaps, long int
	// remotePrefill is the prompt tokens the prefill worker computed (aruntime_worker_prefill_tokens_total).
	remotePrefill float64
}

func (r layoutResult) row(name string, objective time.Duration) string {
	return fmt.Sprintf("| %s | %.1f ms | %.1f ms | %d | %d | %v |", name, float64(r.p50)/1e6, float64(r.p99)/1e6, r.gaps, r.long, r.p99 <= objective)
}

// runLayout starts the dev configuration cut down to two devices and measures it.
func runLayout(b *testing.B, split bool) layoutResult {
	b.Helper()
	cfg, err := config.Parse(devconfig.DevName, devconfig.DevYAML)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Router.HTTPListen, cfg.Router.GRPCListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Providers = nil
	keep := []string{"worker-a", "worker-b"}
	if split {
		keep = []string{"worker-a", "worker-p"}
	} else {
		cfg.Disaggregation.PrefillMinTokens = 0
	}
	cfg.Workers = slices.DeleteFunc(cfg.Workers, func(w config.Worker) bool { return !slices.Contains(keep, w.ID) })
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	rt, err := runtime.Start(ctx, cfg, runtime.Options{Router: true, Workers: keep, Cache: true})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = rt.Shutdown(context.Background()) }()
	base := "http://" + rt.Topology().HTTP

	r := rand.New(rand.NewPCG(pdSeed, 0))
	words := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike")
	text := func(n int) string {
		var sb strings.Builder
		for i := range n {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(words[r.IntN(len(words))])
		}
		return sb.String()
	}
	var longPrompts []string
	var arrivals []time.Duration
	for at := time.Duration(0); at < pdWindow; at += time.Duration(r.ExpFloat64() * float64(pdLongEvery)) {
		longPrompts, arrivals = append(longPrompts, text(pdLongWords)), append(arrivals, at)
	}
	shorts := make([][]string, pdStreams)
	for i := range shorts {
		for range 256 {
			shorts[i] = append(shorts[i], text(12))
		}
	}

	wctx, stop := context.WithTimeout(ctx, pdWindow)
	defer stop()
	var mu sync.Mutex
	var gaps []time.Duration
	long := 0
	var wg sync.WaitGroup
	for i := range pdStreams {
		wg.Go(func() {
			for n := 0; wctx.Err() == nil && n < len(shorts[i]); n++ {
				g, err := stream(ctx, base, "dev-acme-key", "interactive", shorts[i][n], pdTokens)
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				gaps = append(gaps, g...)
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	for i, at := range arrivals {
		if d := at - time.Since(start); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-wctx.Done():
			}
			t.Stop()
		}
		if wctx.Err() != nil {
			break
		}
		wg.Go(func() {
			if _, err := stream(ctx, base, "dev-globex-key", "batch", longPrompts[i], 4); err == nil {
				mu.Lock()
				long++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(gaps)
	if len(gaps) == 0 {
		b.Fatal("no inter-token gaps measured")
	}
	q := func(p float64) time.Duration { return gaps[min(len(gaps)-1, int(p*float64(len(gaps))))] }
	return layoutResult{p50: q(0.5), p99: q(0.99), gaps: len(gaps), long: long, remotePrefill: prefillTokens(b, rt, "worker-p")}
}

// prefillTokens is what worker computed of prompts, from the runtime's metrics; 0 when it is not running.
func prefillTokens(b *testing.B, rt *runtime.Runtime, worker string) float64 {
	b.Helper()
	families, err := rt.Registry().Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "aruntime_worker_prefill_tokens_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "worker" && l.GetValue() == worker {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// stream sends one streamed chat completion and returns the gaps between its content chunks.
func stream(ctx context.Context, base, key, class, prompt string, maxTokens int) ([]time.Duration, error) {
	body := fmt.Sprintf(`{"model":"arcert-sim-small","max_tokens":%d,"stream":true,"messages":[{"role":"user","content":%q}]}`, maxTokens, prompt)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("ARuntime-Traffic-Class", class)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("%s class: status %d, outcome %s/%s", class, resp.StatusCode, resp.Header.Get("ARuntime-Outcome"), resp.Header.Get("ARuntime-Outcome-Reason"))
	}
	var gaps []time.Duration
	var last time.Time
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") || !strings.Contains(line, `"content":"`) {
			continue
		}
		now := time.Now()
		if !last.IsZero() {
			gaps = append(gaps, now.Sub(last))
		}
		last = now
	}
	return gaps, sc.Err()
}
