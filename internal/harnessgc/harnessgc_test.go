package harnessgc

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

// current reads the collector's settings without changing them.
func current() (percent int, limit int64) {
	percent = debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

// isolate starts a test from Go's defaults and puts back what the process had after it.
func isolate(t *testing.T) {
	p, l := current()
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(p); debug.SetMemoryLimit(l) })
}

func TestApplySetsTheHarnessCollector(t *testing.T) {
	isolate(t)
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Setenv(name, "") // restores the variable after the test; Apply must see it absent
		if err := os.Unsetenv(name); err != nil {
			t.Fatal(err)
		}
	}
	restore := Apply()
	if p, l := current(); p != Percent || l != MemoryLimit {
		t.Errorf("after Apply: GOGC %d, memory limit %d; want %d and %d", p, l, Percent, MemoryLimit)
	}
	restore()
	if p, l := current(); p != 100 || l != math.MaxInt64 {
		t.Errorf("after restore: GOGC %d, memory limit %d; want Go's defaults back", p, l)
	}
}

func TestApplyLeavesTheUsersSettings(t *testing.T) {
	isolate(t)
	debug.SetGCPercent(150) // as the runtime would have from GOGC=150
	debug.SetMemoryLimit(512 << 20)
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "512MiB")
	defer Apply()()
	if p, l := current(); p != 150 || l != 512<<20 {
		t.Errorf("with GOGC and GOMEMLIMIT set: GOGC %d, memory limit %d; Apply must leave them", p, l)
	}
}
