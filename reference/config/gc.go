package config

// MinMemoryLimitBytes is the least runtime.memory_limit_bytes: below it the in-memory evidence
// store's least bound and the process's own working set leave the collector nothing to keep
// under, and it would run without pause.
const MinMemoryLimitBytes = 64 << 20

// runtime.gc_percent and runtime.memory_limit_bytes are handed to the Go runtime at start
// (debug.SetGCPercent, debug.SetMemoryLimit) by reference/runtime, when set.
//
// The trade-off. The router allocates some 40 KB per request (net/http, gRPC, the contract's
// headers), all of it garbage when the response is out, while its live heap is mostly the
// in-memory evidence store. At Go's default (100: collect when the heap doubles over what was
// live) the collector takes a quarter to a third of the router's CPU at thousands of requests a
// second; gc_percent 400 measured 195-225 against 259-348 µs per HTTP hop (BenchmarkRouterHTTPHop,
// interleaved, loaded 2-core machine), at the price of a heap up to five times the live one. A
// memory_limit_bytes caps that price: the collector works harder as the heap nears the limit,
// whatever gc_percent says. gc_percent -1 (never by growth, only at the limit) needs the limit.
// The dev configuration sets neither; measure RSS (arbench -memory) before raising them.
func (c *Config) validateGC(v *validator) {
	r := c.Runtime
	switch {
	case r.GCPercent < -1:
		v.add("runtime.gc_percent", "must be -1 (collect only at runtime.memory_limit_bytes), 0 (Go's default) or positive, got %d", r.GCPercent)
	case r.GCPercent == -1 && r.MemoryLimitBytes == 0:
		v.add("runtime.gc_percent", "-1 turns collection by growth off and needs runtime.memory_limit_bytes, which is not set: the heap would grow without bound")
	}
	if r.MemoryLimitBytes != 0 && r.MemoryLimitBytes < MinMemoryLimitBytes {
		v.add("runtime.memory_limit_bytes", "must be 0 (no limit) or at least %d (64 MiB), got %d", MinMemoryLimitBytes, r.MemoryLimitBytes)
	}
}
