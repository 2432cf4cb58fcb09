package config

import "time"

// The workers section: each worker's place, device and engine. Kept apart from config.go so that
// each file stays small; validation is in validate.go and device.go.

// Worker is one GPU worker: where it listens, which pool it belongs to, its device and engine.
type Worker struct {
	ID string `yaml:"id"`
	// Listen is the worker's gRPC address; port 0 picks a free port in `aruntime up`.
	Listen string `yaml:"listen"`
	// Address is what the router dials; empty means Listen. It differs when a proxy stands between.
	Address string `yaml:"address"`
	Region  string `yaml:"region"`
	Pool    string `yaml:"pool"`
	// Models the worker serves; each must be declared under models.
	Models []string   `yaml:"models"`
	Device DeviceSpec `yaml:"device"`
	Engine EngineSpec `yaml:"engine"`
	// Role is RoleMixed (the default), RolePrefill or RoleDecode: see device.go.
	Role string `yaml:"role"`
	// Residency is what the worker gives up under device memory pressure.
	Residency Residency `yaml:"residency"`
}

// DeviceSpec describes the simulated device a worker runs on.
type DeviceSpec struct {
	Name        string `yaml:"name"`
	MemoryBytes uint64 `yaml:"memory_bytes"`
	// Utilization is the fraction of device memory the engine may use (weights plus KV).
	Utilization float64 `yaml:"utilization"`
	// Backend is sim (the default), nvml or auto: see device.go.
	Backend string `yaml:"backend"`
	// Pressure is when free device memory counts as pressure.
	Pressure Pressure `yaml:"pressure"`
	// Index is the GPU index the nvml backend opens; nil means the worker's position in workers,
	// which suits one process on a multi-GPU machine. Set it (usually 0) when each worker runs in
	// its own container that sees one GPU.
	Index *int `yaml:"index"`
	// IgnoredXIDs are XIDs that do not drain the worker; nil means DefaultIgnoredXIDs and an
	// empty list drains on every XID.
	IgnoredXIDs []uint64 `yaml:"ignored_xids"`
	// Confidential puts the simulated device in confidential-computing mode: it attests with the
	// TEST-ONLY key (see Attestation).
	Confidential bool `yaml:"confidential"`
}

// EngineSpec is the executor's batching limits and cost model.
type EngineSpec struct {
	MaxBatch          int           `yaml:"max_batch"`
	MaxWaiting        int           `yaml:"max_waiting"`
	BlockSize         int           `yaml:"block_size"`
	PrefixCacheBlocks int           `yaml:"prefix_cache_blocks"`
	PrefillPerToken   time.Duration `yaml:"prefill_per_token"`
	DecodeStepBase    time.Duration `yaml:"decode_step_base"`
	DecodeStepPerSeq  time.Duration `yaml:"decode_step_per_seq"`
	// PrefillBudgetTokens caps the uncached prompt tokens one engine step prefills (chunked
	// prefill, as vLLM's max_num_batched_tokens), so a burst of prompts near the context limit
	// cannot stall the other sequences' steps for its whole prefill. 0 means
	// DefaultPrefillBudget.
	PrefillBudgetTokens int `yaml:"prefill_budget_tokens"`
	// UnchunkedPrefill turns the budget off: each admitted prompt is prefilled whole in one step.
	UnchunkedPrefill bool `yaml:"unchunked_prefill"`
	// PrefillOrder is who gets the budget first: shortest_first (the default: the fewest
	// prompt tokens left, so a short prompt never waits behind a long prefill) or arrival.
	PrefillOrder string `yaml:"prefill_order"`
}

// DialAddress is the address the router dials for w.
func (w Worker) DialAddress() string {
	if w.Address != "" {
		return w.Address
	}
	return w.Listen
}
