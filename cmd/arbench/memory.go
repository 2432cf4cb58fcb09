package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aruntime/arcert/chaos/traffic"
)

// The memory benchmark: the in-memory runtime (no --data, evidence in memory, bounded by
// evidence.memory_bytes) under a steady open-loop load, its peak RSS and heap sampled while the
// load runs. Its target is the issue's: 800 req/s for 10 minutes under 200 MB of RSS.
const (
	// memorySample is how often RSS and heap are read; runtime.ReadMemStats stops the world
	// briefly, so once a second is enough and costs nothing the load would notice.
	memorySample = time.Second
	// memoryTargetRSS is the RSS the runtime must stay under.
	memoryTargetRSS = 200 << 20
	// memoryMaxTokens keeps each request short: what grows is per-request state, not output.
	memoryMaxTokens = 4
)

// memoryFigures is what the memory benchmark reports.
type memoryFigures struct {
	sent, failed        int
	peakRSS, peakHeap   uint64
	finalRSS, finalHeap uint64
	dropped             float64
	elapsed, maxLag     time.Duration
}

// runMemory runs the memory benchmark for s.memoryDuration at s.memoryRate and prints its figures.
// The load generator runs in the same process as the runtime, so the RSS includes it: the figure
// is an upper bound on the runtime's own.
func runMemory(ctx context.Context, s settings) error {
	cfg := benchConfig()
	cfg.Evidence.MemoryBytes = s.memoryEvidenceBytes
	rt, shutdown, err := startBench(ctx, cfg)
	if err != nil {
		return err
	}
	defer shutdown()
	t := routerHTTPTarget(rt.Topology().HTTP, benchKey, memoryMaxTokens)
	defer t.close()
	fmt.Fprintf(os.Stderr, "arbench: memory: %.0f req/s for %s on the in-memory runtime\n", s.memoryRate, s.memoryDuration)

	var f memoryFigures
	var peakRSS, peakHeap atomic.Uint64
	sctx, stop := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(memorySample)
		defer tick.Stop()
		for {
			rss, heap := readMemory()
			peakRSS.Store(max(peakRSS.Load(), rss))
			peakHeap.Store(max(peakHeap.Load(), heap))
			select {
			case <-sctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	var failed atomic.Int64
	start := time.Now()
	st := traffic.OpenLoop(ctx, traffic.Profile{Name: "memory", Rate: s.memoryRate, Duration: s.memoryDuration, Seed: s.seed},
		func(ctx context.Context, _ int, _ time.Time) {
			if t.call(ctx) != nil {
				failed.Add(1)
			}
		})
	f.elapsed = time.Since(start)
	stop()
	<-sampled
	if st.Err != nil {
		return st.Err
	}
	f.sent, f.failed, f.maxLag = st.Sent, int(failed.Load()), st.MaxLag
	f.peakRSS, f.peakHeap = peakRSS.Load(), peakHeap.Load()
	f.finalRSS, f.finalHeap = readMemory()
	f.dropped = scrapeCounter(ctx, "http://"+rt.Topology().HTTP+"/metrics", "aruntime_evidence_dropped_total")
	printMemory(os.Stdout, f, s)
	if s.memProfile != "" {
		if err := writeHeapProfile(s.memProfile); err != nil {
			return err
		}
	}
	if f.peakRSS >= memoryTargetRSS {
		return fmt.Errorf("peak RSS %d MiB is over the %d MiB target", f.peakRSS>>20, memoryTargetRSS>>20)
	}
	return nil
}

// readMemory returns the process's resident set (VmRSS) and Go's in-use heap, in bytes.
func readMemory() (rss, heap uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return procStatus("VmRSS"), ms.HeapInuse
}

// procStatus reads a kB field of /proc/self/status in bytes; 0 where there is no /proc.
func procStatus(field string) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// scrapeCounter reads one unlabelled metric from a Prometheus text endpoint; -1 when absent.
func scrapeCounter(ctx context.Context, url, name string) float64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return -1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return n
		}
	}
	return -1
}

// printMemory prints the memory benchmark's figures as a Markdown table.
func printMemory(w io.Writer, f memoryFigures, s settings) {
	fmt.Fprintf(w, "\n| in-memory runtime, %.0f req/s for %s | sent | failed | max lag | peak RSS | peak heap | final RSS | final heap | evidence dropped |\n", s.memoryRate, s.memoryDuration)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| router + worker + load generator, one process | %d | %d | %s ms | %d MiB | %d MiB | %d MiB | %d MiB | %.0f |\n",
		f.sent, f.failed, ms(f.maxLag), f.peakRSS>>20, f.peakHeap>>20, f.finalRSS>>20, f.finalHeap>>20, f.dropped)
}

// writeHeapProfile writes the heap profile to path, for `go tool pprof` to say where the memory is.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	return pprof.WriteHeapProfile(f)
}
