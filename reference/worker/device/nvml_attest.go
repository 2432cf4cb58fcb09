//go:build cgo

package device

import (
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/aruntime/arcert/reference/attest"
)

var _ Attester = (*NVML)(nil)

// Attest implements Attester for a real GPU as far as the reference goes: it asks NVML whether
// the system runs in confidential-computing mode (nvmlSystemGetConfComputeState) and says why it
// presents no attestation. A GPU in CC mode has an attestation report signed by NVIDIA's
// certificate chain (nvmlDeviceGetConfComputeGpuAttestationReport); verifying that chain is the
// attestation service's job, which the reference does not ship, so it never claims the device
// attested: a confidential tenant is refused on it rather than trusted on an unverified word.
func (d *NVML) Attest(string, string) (attest.Signed, error) {
	st, ret := d.lib.SystemGetConfComputeState()
	switch {
	case ret == nvml.ERROR_NOT_SUPPORTED || ret == nvml.ERROR_FUNCTION_NOT_FOUND:
		return attest.Signed{}, fmt.Errorf("%w: %s: the driver has no confidential-computing support (%s)", ErrNotAttested, d.uuid, nvml.ErrorString(ret))
	case ret != nvml.SUCCESS:
		return attest.Signed{}, fmt.Errorf("%w: %s: confidential-computing state: %s", ErrNotAttested, d.uuid, nvml.ErrorString(ret))
	case st.CcFeature != nvml.CC_SYSTEM_FEATURE_ENABLED:
		return attest.Signed{}, fmt.Errorf("%w: %s: confidential-computing mode is off", ErrNotAttested, d.uuid)
	case st.DevToolsMode != nvml.CC_SYSTEM_DEVTOOLS_MODE_OFF:
		return attest.Signed{}, fmt.Errorf("%w: %s: confidential-computing mode is on in devtools mode, which attests nothing", ErrNotAttested, d.uuid)
	}
	return attest.Signed{}, fmt.Errorf("%w: %s: confidential-computing mode is on, but the reference does not verify NVIDIA's attestation report chain", ErrNotAttested, d.uuid)
}
