package target

import "time"

// The confidential-compute and device-hook sections of a target file, kept apart from target.go so
// that each file stays small; check.go validates them.

// Confidential declares confidential compute (feature confidential-compute). Its tenants are kept
// out of Target.Tenants on purpose: requirements about every tenant move tenants between regions
// and providers, which a confidential tenant must never be, so they are certified by the CC
// requirements alone.
type Confidential struct {
	Tenants []Tenant `yaml:"tenants"`
	// PublicKey is the base64 ed25519 key the workers' attestations are signed with; the harness
	// verifies every attestation an evidence record names with it.
	PublicKey string `yaml:"public_key"`
	// MaxAge is how old an attestation may be when the router trusts it.
	MaxAge time.Duration `yaml:"max_age"`
}

// Devices tells the Extended profile how to induce device pressure and device faults through
// the arcert device hook: POST Hook (with {worker} replaced by a worker id from
// /v1/aruntime/versions) a discovery.DeviceEvent, with the operator credential. A runtime
// without such a hook declares neither device-pressure nor device-faults.
type Devices struct {
	Hook string `yaml:"hook"`
	// PinnedModels are models the declared residency policy never evicts.
	PinnedModels []string `yaml:"pinned_models"`
	// Settle bounds how long the runtime may take to act on a device event; default 5s.
	Settle time.Duration `yaml:"settle"`
}
