// Package harnessgc sets the garbage collector of the arcert process for the load it generates.
//
// An open-loop run's garbage is per request and short-lived (the call, the response's decoding,
// the ledger entry's strings), and the live heap is small, so at Go's default (GOGC=100) the
// collector ran 18–19 times in a 2 s run at 20,000 requests/s; at 400 it ran 3–5 times, and the
// harness spent about a tenth less CPU a request. The price is memory: the heap may grow to five
// times what is live (a ten-minute game day's peak RSS: 88 MB against 67 MB). No memory limit is
// set: a fixed one would make the collector run without pause once a large in-memory ledger
// neared it, the slowdown this setting is there to avoid; GOMEMLIMIT sets one.
// BenchmarkOpenLoopLedger and BenchmarkGamedayMemory measure both (README "Performance").
//
// `arcert --embedded` runs the reference runtime in the same process, so it runs at this setting
// too unless its configuration's runtime.gc_percent says otherwise.
package harnessgc

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// Percent is the collector's target heap growth, GOGC's value, that Apply sets.
const Percent = 400

// Apply sets the collector to Percent unless the user set GOGC (which the Go runtime has then
// applied already; GOGC set but empty counts as set, and leaves Go's default). It returns a
// function that puts back what was there before, for benchmarks and tests that share a process.
func Apply() (restore func()) {
	prev := Current()
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(Percent)
	}
	return func() { debug.SetGCPercent(prev) }
}

// Current is the collector's target heap growth now (GOGC's value; -1 when the collector is off).
func Current() int {
	samples := [1]metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(samples[:])
	value := samples[0].Value
	if value.Kind() != metrics.KindUint64 {
		return 100 // a Go without the metric: its default
	}
	v := value.Uint64()
	if v > 1<<20 { // off is reported as a huge value in some versions
		return -1
	}
	return int(v)
}
