package worker

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/worker/device"
	"github.com/aruntime/arcert/reference/worker/prefixcache"
)

// errDevicePressure refuses new work or a model load while free device memory is under the
// declared threshold; the router answers it as shed/device_pressure.
var errDevicePressure = errors.New("worker: device memory pressure")

// residency applies the declared residency policy under device memory pressure: cold models
// are evicted least recently used first (pinned ones never), the L1 prefix cache shrinks to its
// declared share (what it drops is demoted to the shared tier by the eviction hook), evicted
// models are not loaded again, and new work is refused, until free memory is back over the
// threshold. Running sequences keep their KV and finish.
type residency struct {
	dev       device.Device
	threshold uint64
	policy    config.Residency
	l1        *prefixcache.Cache // nil without an L1
	l1Full    int
	metrics   *DeviceMetrics // nil records nothing

	mu       sync.Mutex
	models   []*modelState // in Options.Models order
	clock    uint64        // counts uses, so LRU order is exact and deterministic
	pressure bool
}

// modelState is one model's weights on the device.
type modelState struct {
	name     string
	weights  uint64
	pinned   bool
	resident bool
	lastUsed uint64
}

// newResidency reserves every model's weights on dev; it fails when they do not fit.
func newResidency(dev device.Device, o Options, l1 *prefixcache.Cache, m *DeviceMetrics) (*residency, error) {
	r := &residency{dev: dev, threshold: o.Worker.Device.Pressure.MinFreeBytes, policy: o.Worker.Residency, l1: l1, metrics: m}
	if l1 != nil {
		r.l1Full = l1.Capacity()
	}
	for _, md := range o.Models {
		if err := dev.Reserve(md.WeightsBytes); err != nil {
			return nil, fmt.Errorf("%w: weights of model %q: %w", ErrOptions, md.Name, err)
		}
		r.models = append(r.models, &modelState{name: md.Name, weights: md.WeightsBytes, resident: true,
			pinned: slices.Contains(o.Worker.Residency.Pinned, md.Name)})
	}
	r.observe()
	return r, nil
}

// admit is asked before new work on model starts: it refuses under pressure, and loads an evicted
// model again only when its weights fit above the threshold.
func (r *residency) admit(model string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pressure {
		return fmt.Errorf("%w: free memory under %d bytes; new work is shed", errDevicePressure, r.threshold)
	}
	for _, m := range r.models {
		if m.name != model {
			continue
		}
		r.clock++
		m.lastUsed = r.clock
		if m.resident {
			return nil
		}
		if free := r.dev.Info().MemoryFreeBytes; free < m.weights || free-m.weights < r.threshold {
			return fmt.Errorf("%w: loading %s (%d bytes) would leave %d free, under %d", errDevicePressure, m.name, m.weights, free-min(free, m.weights), r.threshold)
		}
		if err := r.dev.Reserve(m.weights); err != nil {
			return fmt.Errorf("%w: loading %s: %w", errDevicePressure, m.name, err)
		}
		m.resident = true
		r.observeLocked()
	}
	return nil
}

// check reads free memory and applies the policy in its declared order: cold unpinned models are
// evicted first and free memory read again; only if it is still under the threshold does the
// worker enter pressure, shrinking its L1 and shedding new work. Leaving pressure gives the L1
// back; evicted models load again on demand (admit). It returns whether the device is under
// pressure now.
func (r *residency) check() bool {
	if r.threshold == 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	free := r.dev.Info().MemoryFreeBytes
	for free < r.threshold && r.policy.Evict == config.EvictLRU {
		cold := r.coldestLocked()
		if cold == nil {
			break
		}
		cold.resident = false
		r.dev.Release(cold.weights)
		r.metrics.modelEvicted(cold.name)
		free = r.dev.Info().MemoryFreeBytes
	}
	defer r.observeLocked()
	if free >= r.threshold {
		if r.pressure {
			r.pressure = false
			if r.l1 != nil {
				r.l1.Resize(r.l1Full)
			}
		}
		return false
	}
	if !r.pressure {
		r.pressure = true
		r.metrics.pressureEpisode()
		if r.l1 != nil {
			r.l1.Resize(int(float64(r.l1Full) * r.policy.L1KeepFraction))
		}
	}
	return true
}

// coldestLocked is the least recently used resident model that is not pinned, or nil.
func (r *residency) coldestLocked() *modelState {
	var cold *modelState
	for _, m := range r.models {
		if m.resident && !m.pinned && (cold == nil || m.lastUsed < cold.lastUsed) {
			cold = m
		}
	}
	return cold
}

// status is the device as the worker reports it in Health, Versions and the device hook.
func (r *residency) status(fault string) *arcertv1.DeviceStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &arcertv1.DeviceStatus{MemoryFreeBytes: r.dev.Info().MemoryFreeBytes, Pressure: r.pressure, Fault: fault,
		PressureThresholdBytes: r.threshold}
	for _, m := range r.models {
		if m.resident {
			st.ResidentModels = append(st.ResidentModels, m.name)
		}
	}
	if r.l1 != nil {
		st.L1CapacityBlocks = int64(r.l1.Capacity())
	}
	return st
}

func (r *residency) observe() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observeLocked()
}

func (r *residency) observeLocked() {
	resident, l1 := 0, 0
	for _, m := range r.models {
		if m.resident {
			resident++
		}
	}
	if r.l1 != nil {
		l1 = r.l1.Capacity()
	}
	r.metrics.set(r.dev.Info().MemoryFreeBytes, r.pressure, resident, l1)
}
