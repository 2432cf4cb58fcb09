package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/aruntime/arcert/chaos/traffic"
)

// row is one path's figures.
type row struct {
	name              string
	p50, p99          time.Duration
	sent, failed      int
	maxLag            time.Duration
	throughput        float64
	throughputFailed  int64
	throughputClients int
}

// warmup requests go through each path before measuring, so connection set-up is not measured.
const warmup = 200

// measureLatency runs the open-loop load on t and returns its latency figures.
func measureLatency(ctx context.Context, t target, s settings) row {
	for range warmup {
		_ = t.call(ctx)
	}
	r := row{name: t.name, throughputClients: s.concurrency}
	var lat traffic.Latencies
	var failed atomic.Int64
	st := traffic.OpenLoop(ctx, traffic.Profile{Name: "bench", Rate: s.rate, Duration: s.duration, Seed: s.seed},
		func(ctx context.Context, _ int, scheduled time.Time) {
			if err := t.call(ctx); err != nil {
				failed.Add(1)
				return
			}
			// From the scheduled time, so a generator that fell behind is not hidden.
			lat.Record(time.Since(scheduled))
		})
	r.sent, r.failed, r.maxLag = st.Sent, int(failed.Load()), st.MaxLag
	r.p50, r.p99 = lat.Quantile(0.50), lat.Quantile(0.99)
	return r
}

// measureThroughput runs closed-loop clients on t and adds the sustained rate to r.
func measureThroughput(ctx context.Context, t target, s settings, r *row) {
	var done, tputFailed atomic.Int64
	cs := traffic.ClosedLoop(ctx, traffic.Profile{Name: "bench-max", Concurrency: s.concurrency, Duration: s.maxDuration},
		func(ctx context.Context, _ int) {
			if err := t.call(ctx); err != nil {
				tputFailed.Add(1)
				return
			}
			done.Add(1)
		})
	r.throughput = float64(done.Load()) / cs.Elapsed.Seconds()
	r.throughputFailed = tputFailed.Load()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()*1000) }

// printTable prints the rows and the router's overhead over the direct path.
func printTable(w io.Writer, rows []row, s settings) {
	fmt.Fprintf(w, "| path | p50 ms @ %.0f/s | p99 ms @ %.0f/s | errors (open loop) | max throughput req/s (%d clients) | errors (closed loop) |\n", s.rate, s.rate, s.concurrency)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %d of %d | %.0f | %d |\n", r.name, ms(r.p50), ms(r.p99), r.failed, r.sent, r.throughput, r.throughputFailed)
	}
	if len(rows) >= 2 {
		base := rows[0]
		fmt.Fprintln(w)
		for _, r := range rows[1:] {
			fmt.Fprintf(w, "%s adds %s ms at p50 and %s ms at p99 over %s.\n", r.name, ms(r.p50-base.p50), ms(r.p99-base.p99), base.name)
		}
	}
}
