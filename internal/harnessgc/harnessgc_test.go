package harnessgc

import (
	"os"
	"runtime/debug"
	"testing"
)

// isolate starts a test from Go's default and puts back what the process had after it.
func isolate(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
}

func TestApplySetsTheHarnessCollector(t *testing.T) {
	isolate(t)
	t.Setenv("GOGC", "") // restores the variable after the test; Apply must see it absent
	if err := os.Unsetenv("GOGC"); err != nil {
		t.Fatal(err)
	}
	restore := Apply()
	if got := Current(); got != Percent {
		t.Errorf("after Apply: GOGC %d, want %d", got, Percent)
	}
	restore()
	if got := Current(); got != 100 {
		t.Errorf("after restore: GOGC %d, want Go's default, 100, back", got)
	}
}

func TestApplyLeavesTheUsersSetting(t *testing.T) {
	isolate(t)
	debug.SetGCPercent(150) // as the runtime would have from GOGC=150
	t.Setenv("GOGC", "150")
	defer Apply()()
	if got := Current(); got != 150 {
		t.Errorf("with GOGC=150 in the environment: GOGC %d; Apply must leave it", got)
	}
}

func TestCurrentReadsWithoutChanging(t *testing.T) {
	isolate(t)
	debug.SetGCPercent(250)
	if got := Current(); got != 250 {
		t.Errorf("Current = %d after SetGCPercent(250)", got)
	}
	debug.SetGCPercent(-1)
	if got := Current(); got != -1 {
		t.Errorf("Current = %d with the collector off, want -1", got)
	}
}
