// Command arbench measures what the reference router costs: the same open-loop load sent straight
// to one worker and through the router (its gRPC and its OpenAI HTTP front doors), and through
// nginx's grpc_pass to the same worker where nginx is installed, with the executor's cost set to
// zero so that only the hop is measured. It prints p50/p99 latency at the fixed rate and the
// highest throughput each path sustains, as a Markdown table.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/runtime"
)

// settings are the benchmark's knobs; the defaults are the figures the README quotes.
type settings struct {
	rate        float64
	duration    time.Duration
	concurrency int
	maxDuration time.Duration
	maxTokens   int
	seed        int64
	// memoryDuration, when set, runs the memory benchmark alone for that long at memoryRate.
	memoryDuration time.Duration
	memoryRate     float64
	// memoryEvidenceBytes is evidence.memory_bytes for the memory benchmark; 0 is the default.
	memoryEvidenceBytes uint64
	// memProfile, when set, is where the memory benchmark writes a heap profile at its end.
	memProfile string
}

func main() {
	s := settings{}
	flag.Float64Var(&s.rate, "rate", 1000, "open-loop arrival rate, requests per second")
	flag.DurationVar(&s.duration, "duration", 5*time.Second, "how long each open-loop run lasts")
	flag.IntVar(&s.concurrency, "concurrency", 64, "closed-loop clients for the throughput run")
	flag.DurationVar(&s.maxDuration, "throughput-duration", 3*time.Second, "how long each throughput run lasts")
	flag.IntVar(&s.maxTokens, "max-tokens", 4, "tokens generated per request")
	flag.Int64Var(&s.seed, "seed", 1, "arrival schedule seed")
	flag.DurationVar(&s.memoryDuration, "memory", 0, "run only the memory benchmark, for this long (make bench: 10m)")
	flag.Float64Var(&s.memoryRate, "memory-rate", 800, "the memory benchmark's open-loop arrival rate, requests per second")
	flag.Uint64Var(&s.memoryEvidenceBytes, "memory-evidence-bytes", 0, "evidence.memory_bytes for the memory benchmark (0: the default)")
	flag.StringVar(&s.memProfile, "memprofile", "", "write the memory benchmark's heap profile here at its end")
	flag.Parse()
	if s.memoryDuration > 0 {
		if err := runMemory(context.Background(), s); err != nil {
			fmt.Fprintln(os.Stderr, "arbench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(s); err != nil {
		fmt.Fprintln(os.Stderr, "arbench:", err)
		os.Exit(1)
	}
}

// benchShutdown bounds stopping the benchmark's runtime.
const benchShutdown = 10 * time.Second

// startBench starts the router and the benchmark worker of cfg in this process, quietly, and
// returns them with the function that stops them.
func startBench(ctx context.Context, cfg *config.Config) (*runtime.Runtime, func(), error) {
	rt, err := runtime.Start(ctx, cfg, runtime.Options{Router: true, Workers: []string{benchWorker}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, err
	}
	return rt, func() {
		sctx, cancel := context.WithTimeout(context.Background(), benchShutdown)
		defer cancel()
		_ = rt.Shutdown(sctx)
	}, nil
}

func run(s settings) error {
	cfg := benchConfig()
	ctx := context.Background()
	rt, shutdown, err := startBench(ctx, cfg)
	if err != nil {
		return err
	}
	defer shutdown()
	topo := rt.Topology()
	targets := []target{
		workerTarget(topo.Workers[benchWorker], cfg.Router.WorkerToken, s.maxTokens),
		routerGRPCTarget(topo.GRPC, benchKey, s.maxTokens),
		routerHTTPTarget(topo.HTTP, benchKey, s.maxTokens),
	}
	if nt, stop, err := nginxTarget(topo.Workers[benchWorker], cfg.Router.WorkerToken, s.maxTokens); err != nil {
		fmt.Fprintf(os.Stderr, "arbench: nginx row skipped: %v\n", err)
	} else {
		defer stop()
		targets = append(targets, nt)
	}
	fmt.Fprintf(os.Stderr, "arbench: %d paths, %.0f req/s for %s each, then %d closed-loop clients for %s\n",
		len(targets), s.rate, s.duration, s.concurrency, s.maxDuration)
	// Every path's latency is measured before any throughput run, so that no path's latency is
	// measured in the wake (garbage, evidence records, warm connections) of another's flood.
	rows := make([]row, len(targets))
	for i, t := range targets {
		if t.close != nil {
			defer t.close()
		}
		fmt.Fprintf(os.Stderr, "arbench: latency at %.0f req/s: %s\n", s.rate, t.name)
		rows[i] = measureLatency(ctx, t, s)
	}
	for i, t := range targets {
		fmt.Fprintf(os.Stderr, "arbench: throughput with %d clients: %s\n", s.concurrency, t.name)
		measureThroughput(ctx, t, s, &rows[i])
	}
	printTable(os.Stdout, rows, s)
	return nil
}
