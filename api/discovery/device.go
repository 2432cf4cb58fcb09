package discovery

// The device hook of the arcert operator contract: POST {hook} with the operator credential, where
// the target file declares the hook path (devices.hook, with {worker} standing for a worker id
// from /v1/aruntime/versions). It lets the harness induce device memory pressure and device faults
// on a runtime that supports them, and clear them afterwards; a runtime that cannot does not
// declare the device-pressure or device-faults feature, and those requirements are NOT_SUPPORTED.

// Device event kinds.
const (
	DeviceMemoryPressure = "memory_pressure" // free device memory just under the declared threshold, or FreeBytes
	DeviceXID            = "xid"             // an XID critical error, XID set
	DeviceECC            = "ecc"             // an uncorrectable ECC error
	DeviceClear          = "clear"           // the pressure released and the device reset

	// Attestation faults, for a runtime that declares confidential-compute: until clear, the
	// worker presents a report issued long ago, one signed with an undeclared key, or one
	// measuring a runtime version other than the pinned one; presents no report at all; presents
	// a correctly signed report saying confidential-computing mode is off; or (sent to a worker
	// that does not attest, with Attestation set) presents another worker's report as its own.
	DeviceAttestationStale     = "attestation_stale"
	DeviceAttestationForged    = "attestation_forged"
	DeviceAttestationUnpinned  = "attestation_unpinned"
	DeviceAttestationWithdrawn = "attestation_withdrawn"
	DeviceAttestationModeOff   = "attestation_mode_off"
	DeviceAttestationReplayed  = "attestation_replayed"
)

// DeviceEvent is the body of a device hook call.
type DeviceEvent struct {
	Kind      string `json:"kind"`
	FreeBytes uint64 `json:"free_bytes,omitempty"`
	XID       uint64 `json:"xid,omitempty"`
	// Attestation is, for attestation_replayed, the attestation text (as the versions listing
	// shows another worker presenting it) the worker is to present as its own.
	Attestation string `json:"attestation,omitempty"`
}

// DeviceEventResult answers a device hook call: the worker's state after the event.
type DeviceEventResult struct {
	Worker         string   `json:"worker"`
	Healthy        bool     `json:"healthy"`
	Device         Device   `json:"device"`
	ResidentModels []string `json:"resident_models"`
	// L1CapacityBlocks is the worker's L1 prefix-cache capacity now; it shrinks under pressure.
	L1CapacityBlocks int64 `json:"l1_capacity_blocks"`
	// CutSequences is how many running sequences an xid or ecc event cut: a fault that cut
	// nothing proves nothing about in-flight work.
	CutSequences int64 `json:"cut_sequences"`
}
