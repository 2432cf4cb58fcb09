// Package harnessgc sets the garbage collector of the arcert process for the load it generates.
//
// An open-loop run's garbage is per request and short-lived (the call, the response's decoding,
// the ledger entry's strings), and the live heap is small, so at Go's default (GOGC=100) the
// collector ran ten or more times a second at 20,000 requests/s, its marking and assists about a
// tenth of the harness's CPU. At 400 the harness sustains 20,000/s open-loop on a two-core
// machine (15,000/s at 100); a ten-minute game day's peak RSS grows from 67 to 88 MB
// (BenchmarkOpenLoopLedger and BenchmarkGamedayMemory, README "Performance").
package harnessgc

import (
	"os"
	"runtime/debug"
)

const (
	// Percent is the collector's target heap growth, GOGC's value, that Apply sets.
	Percent = 400
	// MemoryLimit is the soft memory limit Apply sets (GOMEMLIMIT's value), so that a certification
	// holding a large ledger in memory collects as often as it must to stay near it rather than
	// growing to five times its live heap.
	MemoryLimit = 1 << 30
)

// Apply sets Percent and MemoryLimit, each unless the user set its environment variable (GOGC,
// GOMEMLIMIT), which the Go runtime has then applied already. It returns a function that puts
// back what was there before, for benchmarks and tests that share a process.
func Apply() (restore func()) {
	// Setting is the only way to read GOGC: read it by setting it and setting it back.
	prevPercent, prevLimit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(prevPercent)
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(Percent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(MemoryLimit)
	}
	return func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	}
}
