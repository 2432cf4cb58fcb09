package config

import (
	"fmt"
	"slices"
	"time"
)

// Worker roles. A mixed worker prefills and decodes; with disaggregation, prefill workers only
// compute long prompts' KV and hand it to the shared cache tier, and the mixed or decode workers
// continue from it, so a long prefill never stalls the decode steps of running streams. Prefill
// workers are no place of their own: the router never sends them a request to serve, and they
// add no admission capacity.
const (
	RoleMixed   = ""
	RolePrefill = "prefill"
	RoleDecode  = "decode"
)

// Device backends of a worker; `aruntime --device` overrides them for every worker.
const (
	DeviceSim  = "sim"
	DeviceNVML = "nvml"
	DeviceAuto = "auto"
)

// Residency policies: what a worker evicts under device memory pressure.
const (
	EvictLRU  = "lru"  // evict the least recently used model that is not pinned
	EvictNone = "none" // keep every model resident; only shrink the cache and shed
)

// DefaultIgnoredXIDs are the XIDs NVIDIA's Kubernetes device plugin ignores by default
// (DP_DISABLE_HEALTHCHECKS unset): 13 graphics engine exception, 31 GPU memory page fault, 43 GPU
// stopped processing, 45 preemptive cleanup, 68 video processor exception and 109 context switch
// timeout are caused by an application, not the device, so they must not drain a worker.
var DefaultIgnoredXIDs = []uint64{13, 31, 43, 45, 68, 109}

// DefaultPressurePoll is how often a worker reads its device's free memory when the
// configuration is silent: a pressure episode is acted on within a tenth of a second.
const DefaultPressurePoll = 100 * time.Millisecond

// Pressure says when a device counts as under memory pressure.
type Pressure struct {
	// MinFreeBytes is the declared threshold: below it the residency policy applies. 0 means the
	// worker never acts on pressure.
	MinFreeBytes uint64 `yaml:"min_free_bytes"`
	// PollInterval is how often the worker reads free memory; default DefaultPressurePoll.
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Residency is what a worker gives up under pressure, in order: cold models (by Evict, never a
// pinned one), the L1 prefix cache down to L1KeepFraction of its blocks (demoted to the shared
// tier, not lost), new model loads, and finally new work, shed with reason device_pressure.
type Residency struct {
	Evict  string   `yaml:"evict"`
	Pinned []string `yaml:"pinned"`
	// L1KeepFraction is the share of the L1 prefix cache kept under pressure, in [0, 1].
	L1KeepFraction float64 `yaml:"l1_keep_fraction"`
}

// Disaggregation sends prompts of at least PrefillMinTokens through a prefill worker first.
type Disaggregation struct {
	PrefillMinTokens int `yaml:"prefill_min_tokens"`
}

func (w *Worker) applyDeviceDefaults() {
	if w.Device.Backend == "" {
		w.Device.Backend = DeviceSim
	}
	if w.Device.Pressure.PollInterval == 0 {
		w.Device.Pressure.PollInterval = DefaultPressurePoll
	}
	if w.Residency.Evict == "" {
		w.Residency.Evict = EvictLRU
	}
	if w.Device.IgnoredXIDs == nil {
		w.Device.IgnoredXIDs = slices.Clone(DefaultIgnoredXIDs)
	}
}

// validateDevices checks roles, backends, pressure and residency of every worker.
func (c *Config) validateDevices(v *validator, models map[string]Model) {
	prefill, serving := 0, 0
	for i, w := range c.Workers {
		f := fmt.Sprintf("workers[%d]", i)
		switch w.Role {
		case RoleMixed, RoleDecode:
			serving++
		case RolePrefill:
			prefill++
			if w.Engine.PrefixCacheBlocks == 0 || c.Cache.Listen == "" && c.Cache.Address == "" {
				v.add(f+".role", "a prefill worker hands KV over through the shared cache tier: it needs prefix_cache_blocks and a cache section")
			}
		default:
			v.add(f+".role", "%q is not a role; want prefill, decode or nothing (mixed)", w.Role)
		}
		if !slices.Contains([]string{DeviceSim, DeviceNVML, DeviceAuto}, w.Device.Backend) {
			v.add(f+".device.backend", "%q is not a backend; want sim, nvml or auto", w.Device.Backend)
		}
		if p := w.Device.Pressure; p.MinFreeBytes >= w.Device.MemoryBytes && w.Device.MemoryBytes > 0 {
			v.add(f+".device.pressure.min_free_bytes", "%d is not below the device's %d bytes", p.MinFreeBytes, w.Device.MemoryBytes)
		}
		if w.Device.Index != nil && *w.Device.Index < 0 {
			v.add(f+".device.index", "must not be negative, got %d", *w.Device.Index)
		}
		if w.Device.Pressure.PollInterval < 0 {
			v.add(f+".device.pressure.poll_interval", "must not be negative")
		}
		r := w.Residency
		if r.Evict != EvictLRU && r.Evict != EvictNone {
			v.add(f+".residency.evict", "%q is not a policy; want lru or none", r.Evict)
		}
		if r.L1KeepFraction < 0 || r.L1KeepFraction > 1 {
			v.add(f+".residency.l1_keep_fraction", "must be in [0, 1], got %g", r.L1KeepFraction)
		}
		for j, m := range r.Pinned {
			if _, ok := models[m]; !ok || !slices.Contains(w.Models, m) {
				v.add(fmt.Sprintf("%s.residency.pinned[%d]", f, j), "model %q is not one this worker serves", m)
			}
		}
	}
	if len(c.Workers) > 0 && serving == 0 {
		v.add("workers", "every worker is a prefill worker; at least one must serve requests")
	}
	if c.Disaggregation.PrefillMinTokens < 0 {
		v.add("disaggregation.prefill_min_tokens", "must not be negative")
	}
	if c.Disaggregation.PrefillMinTokens > 0 && prefill == 0 {
		v.add("disaggregation.prefill_min_tokens", "is set but no worker has role prefill")
	}
}
