package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/aruntime/arcert/chaos/traffic"
)

// The load generator: `arbench loadgen` is started by arbench as a child process, one per run, so
// that the load is sent from a separate process as a user's client would send it: its goroutines,
// garbage and scheduler are not the router's, and the router's are not its. It sends one path an
// open-loop Poisson load and prints one JSON line of figures on stdout.

// loadgenSecretEnv carries the path's bearer token (API key or worker token), so that it does not
// show in the process list.
const loadgenSecretEnv = "ARBENCH_SECRET"

// Kinds of path the load generator can drive.
const (
	kindHTTP   = "http"   // POST an OpenAI chat completion (router HTTP, or nginx proxy_pass to the backend)
	kindRouter = "router" // arcert.v1.Inference/Complete (router gRPC)
	kindWorker = "worker" // arcert.v1.Worker/Generate (worker direct, or nginx grpc_pass)
)

// outcome is how one request ended.
type outcome int

const (
	served    outcome = iota // answered in full, successfully
	shed                     // refused for capacity: HTTP 429/503, gRPC RESOURCE_EXHAUSTED/UNAVAILABLE with a status
	connError                // unanswered: the connection failed (refused, reset) or the 10 s deadline passed
	failed                   // anything else: an unexpected status, a broken body
)

// loadResult is what one load generator run prints.
type loadResult struct {
	Kind       string  `json:"kind"`
	Rate       float64 `json:"rate"`
	Sent       int     `json:"sent"`
	Served     int64   `json:"served"`
	Shed       int64   `json:"shed"`
	ConnErrors int64   `json:"conn_errors"`
	Failed     int64   `json:"failed"`
	FirstError string  `json:"first_error,omitempty"`
	FirstShed  string  `json:"first_shed,omitempty"`
	P50us      int64   `json:"p50_us"`
	P99us      int64   `json:"p99_us"`
	ShedP99us  int64   `json:"shed_p99_us"`
	MaxLagUs   int64   `json:"max_lag_us"`
	ElapsedMs  int64   `json:"elapsed_ms"`
	// CPUms is the load generator's own CPU time (user+system), to show what it took of the machine.
	CPUms int64 `json:"cpu_ms"`
}

// loadgenWarmup requests go out one by one before the timed run, so connection set-up and the
// first requests' lazy initialisation are not measured.
const loadgenWarmup = 200

// loadgenTimeout bounds one request: a request still unanswered after it counts as a connection
// error, so a collapsed path shows up as errors rather than as a run that never ends.
const loadgenTimeout = 10 * time.Second

// runLoadgen is `arbench loadgen`.
// loadgenFlags are `arbench loadgen`'s settings.
type loadgenFlags struct {
	kind, addr string
	rate       float64
	duration   time.Duration
	seed       int64
	maxTokens  int
	conns      int
}

// parseLoadgen reads `arbench loadgen`'s arguments.
func parseLoadgen(args []string) (loadgenFlags, error) {
	var f loadgenFlags
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&f.kind, "kind", kindHTTP, "path kind: http, router or worker")
	fs.StringVar(&f.addr, "addr", "", "host:port of the path")
	fs.Float64Var(&f.rate, "rate", 1000, "open-loop arrival rate, requests per second")
	fs.DurationVar(&f.duration, "duration", 5*time.Second, "how long the run lasts")
	fs.Int64Var(&f.seed, "seed", 1, "arrival schedule seed")
	fs.IntVar(&f.maxTokens, "max-tokens", 4, "tokens generated per request")
	fs.IntVar(&f.conns, "conns", 1024, "HTTP connections at most (a user's connection pool)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if f.addr == "" {
		return f, errors.New("loadgen: -addr is required")
	}
	return f, nil
}

func runLoadgen(args []string) error {
	f, err := parseLoadgen(args)
	if err != nil {
		return err
	}
	kind, addr, rate, duration, seed, maxTokens, conns := &f.kind, &f.addr, &f.rate, &f.duration, &f.seed, &f.maxTokens, &f.conns
	call, closeFn, err := newCaller(*kind, *addr, os.Getenv(loadgenSecretEnv), *maxTokens, *conns)
	if err != nil {
		return err
	}
	defer closeFn()
	ctx := context.Background()
	for range loadgenWarmup {
		wctx, cancel := context.WithTimeout(ctx, loadgenTimeout)
		_, _ = call(wctx)
		cancel()
	}
	res := loadResult{Kind: *kind, Rate: *rate}
	var servedLat, shedLat traffic.Latencies
	var nServed, nShed, nConn, nFailed atomic.Int64
	var firstErr, firstShed atomic.Pointer[string]
	cpu0 := cpuTime()
	st := traffic.OpenLoop(ctx, traffic.Profile{Name: "arbench", Rate: *rate, Duration: *duration, Seed: *seed},
		func(ctx context.Context, _ int, scheduled time.Time) {
			rctx, cancel := context.WithDeadline(ctx, scheduled.Add(loadgenTimeout))
			defer cancel()
			o, err := call(rctx)
			// From the scheduled time, so a generator or a server that fell behind is not hidden.
			lat := time.Since(scheduled)
			switch o {
			case served:
				nServed.Add(1)
				servedLat.Record(lat)
			case shed:
				nShed.Add(1)
				shedLat.Record(lat)
			case connError:
				nConn.Add(1)
			default:
				nFailed.Add(1)
			}
			if err != nil {
				msg, first := err.Error(), &firstErr
				if o == shed {
					first = &firstShed
				}
				first.CompareAndSwap(nil, &msg)
			}
		})
	if st.Err != nil {
		return st.Err
	}
	res.Sent, res.MaxLagUs, res.ElapsedMs = st.Sent, st.MaxLag.Microseconds(), st.Elapsed.Milliseconds()
	res.Served, res.Shed, res.ConnErrors, res.Failed = nServed.Load(), nShed.Load(), nConn.Load(), nFailed.Load()
	res.P50us, res.P99us = servedLat.Quantile(0.5).Microseconds(), servedLat.Quantile(0.99).Microseconds()
	res.ShedP99us = shedLat.Quantile(0.99).Microseconds()
	res.CPUms = (cpuTime() - cpu0).Milliseconds()
	if p := firstErr.Load(); p != nil {
		res.FirstError = *p
	}
	if p := firstShed.Load(); p != nil {
		res.FirstShed = *p
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// classifyErr sorts a transport error: a connection that failed or timed out, or a gRPC status.
func classifyErr(err error) outcome {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) {
		return connError
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return connError
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return connError
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.ResourceExhausted:
			return shed
		case codes.DeadlineExceeded:
			return connError // the load generator's own deadline: unanswered, not refused
		case codes.Unavailable:
			// gRPC says Unavailable both for a refused request and for a broken connection; a
			// router's refusal names its outcome in the message, a transport failure does not.
			if s.Message() != "" && !isTransportMessage(s.Message()) {
				return shed
			}
			return connError
		}
	}
	return failed
}

// isTransportMessage reports whether a gRPC Unavailable message is the client's own connection
// failure rather than a server's answer.
func isTransportMessage(msg string) bool {
	msg = strings.ToLower(msg)
	for _, p := range []string{"connection error", "transport", "error reading from server", "eof"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// errUnknownKind names a -kind the load generator cannot drive.
var errUnknownKind = errors.New("loadgen: unknown -kind (want http, router or worker)")

func newCaller(kind, addr, secret string, maxTokens, conns int) (func(context.Context) (outcome, error), func(), error) {
	switch kind {
	case kindHTTP:
		return httpCaller(addr, secret, maxTokens, conns)
	case kindRouter, kindWorker:
		return grpcCaller(kind, addr, secret, maxTokens)
	}
	return nil, nil, fmt.Errorf("%w: %q", errUnknownKind, kind)
}
