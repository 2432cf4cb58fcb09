package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/traffic"
	"github.com/aruntime/arcert/conformance/checks"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
	"github.com/aruntime/arcert/fixtures/targets"
)

// The noisy-neighbour benchmark's schedule: tenant B's short interactive streams at noisyProbeRate
// for noisyProbe, first with tenant A idle, then while A floods the same class at noisyFloodFactor
// times the declared capacity from its own quota, starting noisyLead before B's probes.
const (
	noisyProbeRate   = 30.0
	noisyProbe       = 4 * time.Second
	noisyLead        = 500 * time.Millisecond
	noisyFloodFactor = 4
	noisyTokens      = 4
)

// BenchmarkNoisyNeighbour measures tenant isolation on the dev topology: B's served share and p99
// time to first token with A idle and with A flooding B's class, and their ratio (target: at most
// 1.5, and every B request served), on the reference and on its shared-FIFO negative control for
// scale. Run it with -benchtime 1x (make bench does).
func BenchmarkNoisyNeighbour(b *testing.B) {
	for range b.N {
		var rows []string
		for _, variant := range []string{"", "shared-fifo-class-queue"} {
			idle, flood := measureNoisy(b, variant)
			ratio := float64(flood.p99) / float64(idle.p99)
			name := "reference"
			if variant != "" {
				name = variant
			} else {
				b.ReportMetric(ratio, "p99-ratio")
				b.ReportMetric(flood.servedPct(), "served-%")
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %.2f ms | %s | %.2f ms | %.2f |",
				name, idle.served(), ms(idle.p99), flood.served(), ms(flood.p99), ratio))
		}
		b.Logf("\n| runtime | B served, A idle | B p99 TTFT, A idle | B served, A flooding | B p99 TTFT, A flooding | ratio |\n|---|---:|---:|---:|---:|---:|\n%s",
			strings.Join(rows, "\n"))
	}
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// noisyFigures are B's results in one phase.
type noisyFigures struct {
	sent, ok int
	p99      time.Duration
}

func (f noisyFigures) servedPct() float64 { return 100 * float64(f.ok) / float64(max(1, f.sent)) }
func (f noisyFigures) served() string {
	return fmt.Sprintf("%.1f %% (%d of %d)", f.servedPct(), f.ok, f.sent)
}

// measureNoisy runs both phases against a fresh embedded runtime (variant "" is the reference).
func measureNoisy(b *testing.B, variant string) (idle, flood noisyFigures) {
	b.Helper()
	ctx := context.Background()
	rt, stop, err := startEmbedded(ctx, variant, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	t, err := target.Parse(targets.ReferenceName, targets.ReferenceYAML)
	if err != nil {
		b.Fatal(err)
	}
	class, a, quiet := t.TrafficClasses[0].Name, t.Tenants[0], t.Tenants[1]
	client := driver.New("http://" + rt.Topology().HTTP)
	send := func(ctx context.Context, key string, stream bool) driver.Result {
		mt := int64(noisyTokens)
		body := openai.CompletionRequest{Model: t.Models[0].Name, MaxTokens: &mt, Stream: stream,
			Messages: []openai.ChatMessage{{Role: "user", Content: "noisy neighbour benchmark"}}}
		res, _ := client.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: key, Body: body,
			Header: http.Header{outcome.HeaderTrafficClass: {class}}})
		return res
	}
	probe := func(seed int64) noisyFigures {
		var (
			mu    sync.Mutex
			f     noisyFigures
			ttfts []time.Duration
		)
		traffic.OpenLoop(ctx, traffic.Profile{Name: "noisy-probes", Rate: noisyProbeRate, Duration: noisyProbe, Seed: seed},
			func(ctx context.Context, _ int, _ time.Time) {
				res := send(ctx, quiet.Key, true)
				mu.Lock()
				defer mu.Unlock()
				f.sent++
				if res.Outcome.Served() {
					f.ok++
					ttfts = append(ttfts, res.TTFT)
				}
			})
		f.p99 = checks.Quantile(ttfts, 0.99)
		return f
	}
	idle = probe(1)
	floodDone := make(chan struct{})
	go func() {
		defer close(floodDone)
		traffic.OpenLoop(ctx, traffic.Profile{Name: "noisy-flood", Rate: noisyFloodFactor * t.Capacity.RequestsPerSecond,
			Duration: noisyLead + noisyProbe, Seed: 2}, func(ctx context.Context, _ int, _ time.Time) { send(ctx, a.Key, false) })
	}()
	time.Sleep(noisyLead) // the flood fills the runtime first, as ADM-7's does
	flood = probe(3)
	<-floodDone
	return idle, flood
}
