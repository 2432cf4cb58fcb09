// Command arbench measures what the reference router costs, as a user would: from a separate
// process (`arbench loadgen`, started once per run), the same open-loop load is sent straight to
// one worker, through the router's gRPC and OpenAI HTTP front doors, and through nginx (grpc_pass
// to the same worker, proxy_pass to a trivial Go backend) where nginx is installed, with the
// executor's cost set to zero so that only the hop is measured. Rates 1k, 5k and 10k/s run
// interleaved and repeated, then 20k/s is offered to the router; it prints p50/p99 latency, every
// request's outcome and the ratio to nginx as a Markdown table, and whether the targets were met.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/runtime"
)

// settings are the benchmark's knobs; the defaults are the figures the README quotes.
type settings struct {
	rates        []float64
	overloadRate float64
	repeats      int
	duration     time.Duration
	maxTokens    int
	seed         int64
	// maxInflight is the router's router.max_inflight (0: the bench configuration's). Its
	// default, benchMaxInflight, is sized for the benchmark's zero-cost worker.
	maxInflight int
	// gcPercent is the process's runtime.gc_percent (0: Go's default).
	gcPercent int
	// profileDir, when set, receives CPU and allocation profiles of the process hosting the
	// router, taken in the first repeat for the router's doors at profileRates.
	profileDir   string
	profileRates map[float64]bool
	// memoryDuration, when set, runs the memory benchmark alone for that long at memoryRate.
	memoryDuration time.Duration
	memoryRate     float64
	// memoryEvidenceBytes is evidence.memory_bytes for the memory benchmark; 0 is the default.
	memoryEvidenceBytes uint64
	// memProfile, when set, is where the memory benchmark writes a heap profile at its end.
	memProfile string
	// floor also drives the floor paths (floor.go): what a Go proxy with no logic achieves here.
	floor bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "loadgen" {
		if err := runLoadgen(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "arbench loadgen:", err)
			os.Exit(1)
		}
		return
	}
	s := settings{}
	rates := flag.String("rates", "1000,5000,10000", "open-loop arrival rates, requests per second, comma-separated")
	flag.Float64Var(&s.overloadRate, "overload-rate", 20000, "rate offered to the router's doors after each repeat (0: none)")
	flag.IntVar(&s.repeats, "repeats", 3, "how many times every path runs at every rate")
	flag.DurationVar(&s.duration, "duration", 5*time.Second, "how long each open-loop run lasts")
	flag.IntVar(&s.maxTokens, "max-tokens", 4, "tokens generated per request")
	flag.IntVar(&s.gcPercent, "gc-percent", 400, "runtime.gc_percent of the benchmark's router process (0: Go's default); the memory benchmark keeps Go's default")
	flag.IntVar(&s.maxInflight, "max-inflight", benchMaxInflight, "router.max_inflight of the benchmark's router (0: the bench configuration's, 26,624)")
	flag.BoolVar(&s.floor, "floor", true, "also drive the floor paths: Go relays with no logic (net/http, fasthttp, net/http with fasthttp's client, the router's gRPC hop to the worker behind net/http and behind fasthttp)")
	flag.Int64Var(&s.seed, "seed", 1, "arrival schedule seed (repeat r uses seed+r)")
	flag.StringVar(&s.profileDir, "profile-dir", "", "write CPU and allocation profiles of the router's process here")
	profileRates := flag.String("profile-rates", "5000,10000", "rates at which -profile-dir profiles the router's doors")
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
	var err error
	if s.rates, err = parseRates(*rates); err == nil {
		var pr []float64
		if pr, err = parseRates(*profileRates); err == nil {
			s.profileRates = map[float64]bool{}
			for _, r := range pr {
				s.profileRates[r] = true
			}
		}
	}
	if err == nil && s.repeats < 1 {
		err = fmt.Errorf("-repeats %d: want at least 1", s.repeats)
	}
	if err == nil {
		err = run(s)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "arbench:", err)
		os.Exit(1)
	}
}

// benchMaxInflight is the benchmark router's in-flight bound: what a router keeping a 25 ms
// promise at the top measured rate holds (Little's law: 10,000/s × 25 ms = 250, rounded up).
// The configuration's default (twice what workers and queues hold, 26,624 here) is sized for
// generation that takes seconds; against a worker that answers at once it is above the load
// generator's 1,024 HTTP connections, so the HTTP door would never shed and an overload would
// wait in queues until the client gave up instead of being refused.
const benchMaxInflight = 256

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
	if s.maxInflight > 0 {
		cfg.Router.MaxInflight = s.maxInflight
	}
	cfg.Runtime.GCPercent = s.gcPercent
	ctx := context.Background()
	rt, shutdown, err := startBench(ctx, cfg)
	if err != nil {
		return err
	}
	defer shutdown()
	topo := rt.Topology()
	workerAddr := topo.Workers[benchWorker]
	token := cfg.Router.WorkerToken
	paths := []benchPath{
		{name: pathWorker, kind: kindWorker, addr: workerAddr, secret: token},
		{name: pathRouterGRPC, kind: kindRouter, addr: topo.GRPC, secret: benchKey, profile: "router-grpc"},
		{name: pathRouterHTTP, kind: kindHTTP, addr: topo.HTTP, secret: benchKey, profile: "router-http"},
	}
	router := []benchPath{paths[2], paths[1]}
	backend, stopBackend, err := startBackend()
	if err != nil {
		return err
	}
	defer stopBackend()
	if s.floor {
		floor, stopFloor, err := floorPaths(backend, workerAddr, token, s.maxTokens)
		if err != nil {
			return err
		}
		defer stopFloor()
		paths = append(paths, floor...)
	}
	if ng, stop, err := startNginx(workerAddr, backend); err != nil {
		fmt.Fprintf(os.Stderr, "arbench: nginx rows skipped: %v\n", err)
	} else {
		defer stop()
		paths = append(paths,
			benchPath{name: pathNginxGRPC, kind: kindWorker, addr: ng.grpc, secret: token, nginxGroup: ng.group},
			benchPath{name: pathNginxHTTP, kind: kindHTTP, addr: ng.http, secret: benchKey, nginxGroup: ng.group})
	}
	fmt.Fprintf(os.Stderr, "arbench: %d paths at %v req/s, %s each, %d repeats, then %.0f req/s offered to the router\n",
		len(paths), s.rates, s.duration, s.repeats, s.overloadRate)
	res, err := runPaths(ctx, s, paths, router)
	if err != nil {
		return err
	}
	order := []string{pathWorker, pathNginxGRPC, pathRouterGRPC, pathNginxHTTP, pathGoProxy, pathMixedProxy, pathFastProxy, pathGRPCHop, pathFastGRPCHop, pathRouterHTTP}
	slices.SortFunc(paths, func(a, b benchPath) int { return slices.Index(order, a.name) - slices.Index(order, b.name) })
	printReport(os.Stdout, s, res, paths)
	return nil
}
