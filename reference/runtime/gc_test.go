package runtime

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/aruntime/arcert/reference/config"
)

// TestTuneGCSetsWhatIsDeclared: declared settings reach the Go runtime; zero ones leave it alone.
func TestTuneGCSetsWhatIsDeclared(t *testing.T) {
	prevPercent, prevLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(prevPercent); debug.SetMemoryLimit(prevLimit) })
	tuneGC(config.Runtime{})
	if p, l := debug.SetGCPercent(100), debug.SetMemoryLimit(-1); p != 100 || l != math.MaxInt64 {
		t.Fatalf("zero settings changed the collector: percent %d, limit %d", p, l)
	}
	tuneGC(config.Runtime{GCPercent: 300, MemoryLimitBytes: 256 << 20})
	if p, l := debug.SetGCPercent(100), debug.SetMemoryLimit(-1); p != 300 || l != 256<<20 {
		t.Fatalf("percent %d, limit %d; want 300 and %d", p, l, 256<<20)
	}
}
