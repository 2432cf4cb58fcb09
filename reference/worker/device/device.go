// Package device describes the accelerator a worker runs on.
//
// Where no GPU is present the worker runs on Sim, a simulated device with a
// fixed amount of memory: model weights are reserved from it and the rest,
// scaled by a utilization target, becomes KV-cache capacity. On a machine
// with an NVIDIA GPU the NVML backend (nvml.go, cgo only) reports the same
// Info and the same XID and ECC events, so the engine's capacity, device
// pressure and device faults work the same on simulated and real hardware,
// and tests drive the NVML backend through go-nvml's dgxa100 mock.
package device

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
)

// ErrOutOfMemory is returned when a reservation does not fit in the device's
// free memory; the worker reports it rather than overcommitting.
var ErrOutOfMemory = errors.New("device: out of memory")

// Info is what a worker reports about one device. MemoryFreeBytes is what
// the device has left for this worker: its total less this worker's
// reservations and whatever else holds device memory.
type Info struct {
	UUID             string
	Name             string
	MemoryTotalBytes uint64
	MemoryUsedBytes  uint64
	MemoryFreeBytes  uint64
	Simulated        bool
}

// Device is an accelerator as the worker uses it: identity and memory, and
// the worker's own reservations (model weights) against that memory. The
// optional abilities are separate interfaces, found by type assertion:
// EventSource for XID and ECC events, Injector for the operator's hook.
type Device interface {
	Info() Info
	// Reserve claims bytes for this worker, failing with ErrOutOfMemory
	// when they do not fit in the free memory.
	Reserve(bytes uint64) error
	// Release returns bytes claimed by Reserve.
	Release(bytes uint64)
	// KVCapacityTokens is how many KV-cache tokens fit in the memory the
	// engine may use after the reservations.
	KVCapacityTokens(bytesPerToken uint64, utilization float64) int
}

// Sim is a simulated GPU. It is safe for concurrent use.
type Sim struct {
	uuid  string
	name  string
	total uint64

	mu       sync.Mutex
	used     uint64 // reserved by this worker
	external uint64 // held by "another process": what simulated pressure takes
	events   eventQueue
	att      simAttest
}

var (
	_ Device   = (*Sim)(nil)
	_ Injector = (*Sim)(nil)
	_ Attester = (*Sim)(nil)
)

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
	taken := s.used + s.external
	return Info{UUID: s.uuid, Name: s.name, MemoryTotalBytes: s.total, MemoryUsedBytes: min(taken, s.total),
		MemoryFreeBytes: s.total - min(taken, s.total), Simulated: true}
}

// SimulateFree makes the device's free memory free bytes (never less than
// nothing), as if another process took the rest; on false it gives that
// memory back. It is the simulated device's memory pressure.
func (s *Sim) SimulateFree(free uint64, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.external = 0
	if on && s.total > s.used+free {
		s.external = s.total - s.used - free
	}
}

// Inject delivers e to the device's event watchers, as if the driver had
// reported it.
func (s *Sim) Inject(e Event) { s.events.push(e) }

// WatchEvents implements EventSource: the simulated device has only the
// events Inject delivers.
func (s *Sim) WatchEvents(ctx context.Context, fn func(Event)) error {
	return s.events.watch(ctx, fn)
}

// Reserve claims bytes of device memory, for example for model weights. It
// returns an error wrapping ErrOutOfMemory when they do not fit.
func (s *Sim) Reserve(bytes uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if free := s.total - min(s.used+s.external, s.total); bytes > free {
		return fmt.Errorf("reserve %d bytes with %d free on %s: %w", bytes, free, s.uuid, ErrOutOfMemory)
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
