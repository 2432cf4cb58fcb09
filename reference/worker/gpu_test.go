//go:build gpu && cgo

package worker

import (
	"testing"

	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/worker/device"
)

// TestGPUCheck is `make gpu-check`: on a machine with an NVIDIA GPU it lists every device through
// NVML, then serves requests with a worker on device 0 through the NVML backend. It is not part
// of CI (no GPU there); the build tag keeps it out of every other run.
func TestGPUCheck(t *testing.T) {
	found, err := device.DiscoverDefault()
	if err != nil {
		t.Fatalf("listing devices through NVML: %v", err)
	}
	if len(found) == 0 {
		t.Fatal("NVML lists no device")
	}
	for _, d := range found {
		t.Logf("device %d: %s %s, %d of %d bytes free, GPU %d%%, memory %d%%",
			d.Index, d.UUID, d.Name, d.MemoryFreeBytes, d.MemoryTotalBytes, d.GPUUtilization, d.MemoryUtilization)
	}
	o := testOptions("gpu-check")
	o.Index = 0
	o.Worker.Device = config.DeviceSpec{Backend: config.DeviceNVML, MemoryBytes: found[0].MemoryTotalBytes, Utilization: 0.9}
	s := serve(t, o)
	for i := range 8 {
		r, err := generate(t.Context(), s.client, request("acme", "served on the real device", 8))
		if err != nil {
			t.Fatalf("request %d on %s: %v", i, found[0].UUID, err)
		}
		t.Logf("request %d: %q, %d tokens", i, r.text(), r.final.GetUsage().GetCompletionTokens())
	}
	if info := s.srv.dev.Info(); info.Simulated || info.UUID != found[0].UUID {
		t.Fatalf("the worker ran on %+v, not on NVML device %s", info, found[0].UUID)
	}
}
