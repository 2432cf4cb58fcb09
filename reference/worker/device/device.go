// Package device describes the accelerator a worker runs on.
//
// Where no GPU is present the worker runs on Sim, a simulated device with a
// fixed amount of memory: model weights are reserved from it and the rest,
// scaled by a utilization target, becomes KV-cache capacity. A later NVML
// backend reports the same Info shape, so the engine's capacity and the
// harness's device-pressure faults work the same on simulated and real
// hardware.
package device

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// ErrOutOfMemory is returned when a reservation does not fit in the device's
// free memory; the worker reports it rather than overcommitting.
var ErrOutOfMemory = errors.New("device: out of memory")

// Info is what a worker reports about one device.
type Info struct {
	UUID             string
	Name             string
	MemoryTotalBytes uint64
	MemoryUsedBytes  uint64
}

// Sim is a simulated GPU. It is safe for concurrent use.
type Sim struct {
	uuid  string
	name  string
	total uint64

	mu   sync.Mutex
	used uint64
}

// NewSim returns a simulated device. Its UUID is derived from index only, so
// evidence from repeated runs names the same device.
func NewSim(index int, name string, memoryTotalBytes uint64) *Sim {
	return &Sim{
		uuid:  fmt.Sprintf("GPU-sim-%04d-0000-0000-0000-%012d", index, index),
		name:  name,
		total: memoryTotalBytes,
	}
}

// Info returns the device's identity and current memory use.
func (s *Sim) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Info{UUID: s.uuid, Name: s.name, MemoryTotalBytes: s.total, MemoryUsedBytes: s.used}
}

// Reserve claims bytes of device memory, for example for model weights. It
// returns an error wrapping ErrOutOfMemory when they do not fit.
func (s *Sim) Reserve(bytes uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bytes > s.total-s.used {
		return fmt.Errorf("reserve %d bytes with %d free on %s: %w", bytes, s.total-s.used, s.uuid, ErrOutOfMemory)
	}
	s.used += bytes
	return nil
}

// Release returns bytes claimed by Reserve. Releasing more than is reserved
// frees everything rather than underflowing.
func (s *Sim) Release(bytes uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used -= min(bytes, s.used)
}

// KVCapacityTokens returns how many KV-cache tokens fit in the memory the
// engine may use: floor((total*utilization - used) / bytesPerToken), never
// negative. utilization is clamped to [0, 1]; bytesPerToken 0 yields 0.
func (s *Sim) KVCapacityTokens(bytesPerToken uint64, utilization float64) int {
	if bytesPerToken == 0 || !(utilization > 0) {
		return 0
	}
	utilization = min(utilization, 1)
	s.mu.Lock()
	budget := float64(s.total)*utilization - float64(s.used)
	s.mu.Unlock()
	if budget <= 0 {
		return 0
	}
	n := math.Floor(budget / float64(bytesPerToken))
	if n >= math.MaxInt {
		return math.MaxInt
	}
	return int(n)
}
