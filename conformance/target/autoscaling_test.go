package target

import (
	"os"
	"strings"
	"testing"
)

// TestAutoscalingLagIsBoundedBySCL1sTimeout: SCL-1 steps the load for twice the declared lag plus
// a margin inside a fixed spec timeout, so a longer lag is refused up front, naming the field,
// rather than timing the spec out.
func TestAutoscalingLagIsBoundedBySCL1sTimeout(t *testing.T) {
	raw, err := os.ReadFile("../../fixtures/targets/reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ok := "expected_seconds: 8 "
	if !strings.Contains(string(raw), ok) {
		t.Fatalf("reference.yaml no longer declares %q", ok)
	}
	if _, err := Parse("reference.yaml", raw); err != nil {
		t.Fatalf("reference.yaml: %v", err)
	}
	long := strings.Replace(string(raw), ok, "expected_seconds: 120 ", 1)
	_, err = Parse("long.yaml", []byte(long))
	if err == nil || !strings.Contains(err.Error(), "placement.autoscaling_lag.expected_seconds") || !strings.Contains(err.Error(), "50") {
		t.Fatalf("a 120 s lag: %v, want an error naming placement.autoscaling_lag.expected_seconds and its 50 s bound", err)
	}
}
