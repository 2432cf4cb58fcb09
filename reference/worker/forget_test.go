package worker

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestForgetDropsOnlyThatWorkersSeries: an autoscaled instance stopped for good leaves no series
// behind, and the other workers sharing the vectors keep theirs.
func TestForgetDropsOnlyThatWorkersSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	series := func() string {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					b.WriteString(mf.GetName() + "{" + l.GetValue() + "} ")
				}
			}
		}
		return b.String()
	}
	var steps []*StepMetrics
	var devs []*DeviceMetrics
	for _, id := range []string{"w-1", "w-2"} {
		s, err := NewStepMetrics(reg, id)
		if err != nil {
			t.Fatal(err)
		}
		d, err := NewDeviceMetrics(reg, id)
		if err != nil {
			t.Fatal(err)
		}
		s.ObserveStep(2, 10, time.Millisecond)
		steps, devs = append(steps, s), append(devs, d)
	}
	if got := series(); !strings.Contains(got, "{w-2}") || !strings.Contains(got, "aruntime_worker_device_free_bytes{w-2}") {
		t.Fatalf("before Forget: %s", got)
	}
	steps[1].Forget()
	devs[1].Forget()
	got := series()
	if strings.Contains(got, "{w-2}") {
		t.Errorf("after Forget w-2 still has series: %s", got)
	}
	if !strings.Contains(got, "aruntime_worker_step_seconds{w-1}") || !strings.Contains(got, "aruntime_worker_device_free_bytes{w-1}") {
		t.Errorf("Forget of w-2 dropped w-1's series: %s", got)
	}
}
