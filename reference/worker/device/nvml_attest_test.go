//go:build cgo

package device

import (
	"errors"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// TestNVMLAttestSaysWhyItPresentsNothing drives the NVML backend's confidential-computing query
// through go-nvml's mock: whatever the state, the device presents no attestation the router could
// trust, and the error names the state it found.
func TestNVMLAttestSaysWhyItPresentsNothing(t *testing.T) {
	cases := []struct {
		state nvml.ConfComputeSystemState
		ret   nvml.Return
		want  string
	}{
		{ret: nvml.ERROR_NOT_SUPPORTED, want: "no confidential-computing support"},
		{state: nvml.ConfComputeSystemState{CcFeature: nvml.CC_SYSTEM_FEATURE_DISABLED}, ret: nvml.SUCCESS, want: "mode is off"},
		{state: nvml.ConfComputeSystemState{CcFeature: nvml.CC_SYSTEM_FEATURE_ENABLED, DevToolsMode: nvml.CC_SYSTEM_DEVTOOLS_MODE_ON}, ret: nvml.SUCCESS, want: "devtools"},
		{state: nvml.ConfComputeSystemState{CcFeature: nvml.CC_SYSTEM_FEATURE_ENABLED}, ret: nvml.SUCCESS, want: "does not verify NVIDIA's attestation"},
	}
	for _, c := range cases {
		m := newMockGPU(t)
		m.SystemGetConfComputeStateFunc = func() (nvml.ConfComputeSystemState, nvml.Return) { return c.state, c.ret }
		d, err := OpenNVML(m, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Attest("worker-a", "1.0")
		if !errors.Is(err, ErrNotAttested) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("state %+v ret %v: %v, want ErrNotAttested saying %q", c.state, c.ret, err, c.want)
		}
		_ = d.Close()
	}
}
