package worker

import (
	"errors"
	"testing"

	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/worker/device"
)

// TestOnlyASimBackendAttests checks device.confidential puts a device in CC mode only when its
// backend is sim: a sim device that auto fell back to (no NVML on this host) attests nothing.
func TestOnlyASimBackendAttests(t *testing.T) {
	for backend, attests := range map[string]bool{config.DeviceSim: true, config.DeviceAuto: false} {
		o := testOptions("w-" + backend)
		o.Worker.Device.Backend, o.Worker.Device.Confidential = backend, true
		s, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		a, ok := s.dev.(device.Attester)
		if !ok {
			if attests {
				t.Fatalf("backend %s: the device cannot attest", backend)
			}
			continue // auto found a real device here: it attests by its own mode, not by configuration
		}
		_, err = a.Attest("w", "rt-1.2.3")
		if got := err == nil; got != attests {
			t.Errorf("backend %s: attests %v (%v), want %v", backend, got, err, attests)
		}
		if !attests && !errors.Is(err, device.ErrNotAttested) {
			t.Errorf("backend %s: %v, want ErrNotAttested", backend, err)
		}
	}
}
