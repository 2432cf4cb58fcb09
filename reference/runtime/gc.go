package runtime

import (
	"runtime/debug"

	"github.com/aruntime/arcert/reference/config"
)

// tuneGC hands runtime.gc_percent and runtime.memory_limit_bytes to the Go runtime, when set
// (reference/config/gc.go has the trade-off). They are the process's: a second runtime started
// in the same process with other values overrides the first's.
func tuneGC(r config.Runtime) {
	if r.GCPercent != 0 {
		debug.SetGCPercent(r.GCPercent)
	}
	if r.MemoryLimitBytes > 0 {
		debug.SetMemoryLimit(r.MemoryLimitBytes)
	}
}
