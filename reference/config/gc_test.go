package config

import (
	"strings"
	"testing"
)

// TestGCSettings: runtime.gc_percent and runtime.memory_limit_bytes default to Go's own (zero);
// -1 needs a limit; a limit under 64 MiB and a percent under -1 are errors naming the key.
func TestGCSettings(t *testing.T) {
	cfg, err := Parse("dev.yaml", devYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runtime.GCPercent != 0 || cfg.Runtime.MemoryLimitBytes != 0 {
		t.Fatalf("the dev configuration tunes the collector: %+v", cfg.Runtime)
	}
	tests := []struct {
		percent     int
		limit       int64
		field, want string // "" accepts
	}{
		{400, 0, "", ""},
		{400, 256 << 20, "", ""},
		{-1, 256 << 20, "", ""},
		{-1, 0, "runtime.gc_percent", "needs runtime.memory_limit_bytes"},
		{-2, 0, "runtime.gc_percent", "must be -1"},
		{0, 1 << 20, "runtime.memory_limit_bytes", "at least"},
	}
	for _, tc := range tests {
		c := *cfg
		c.Runtime.GCPercent, c.Runtime.MemoryLimitBytes = tc.percent, tc.limit
		errs := c.validate()
		switch {
		case tc.want == "" && len(errs) != 0:
			t.Errorf("gc_percent %d, limit %d refused: %v", tc.percent, tc.limit, errs)
		case tc.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.field) || !strings.Contains(errs[0].Error(), tc.want)):
			t.Errorf("gc_percent %d, limit %d: errors %v, want one on %s saying %q", tc.percent, tc.limit, errs, tc.field, tc.want)
		}
	}
	declared, err := Parse("dev.yaml", []byte(strings.Replace(string(devYAML(t)), "runtime:\n", "runtime:\n  gc_percent: 300\n  memory_limit_bytes: 268435456\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if declared.Runtime.GCPercent != 300 || declared.Runtime.MemoryLimitBytes != 256<<20 {
		t.Errorf("declared settings read as %+v", declared.Runtime)
	}
}
