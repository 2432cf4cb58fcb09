package device

import (
	"errors"
	"fmt"
	"log/slog"
)

// More sentinel errors of the package.
var (
	// ErrNoNVML means the NVML library could not be loaded or initialised
	// (no driver, or a binary built without cgo).
	ErrNoNVML = errors.New("device: nvml unavailable")
	// ErrNoDevice means NVML has no device at the index asked for.
	ErrNoDevice = errors.New("device: no such device")
	// ErrBackend means a backend name other than sim, nvml or auto.
	ErrBackend = errors.New("device: unknown backend")
)

// The device backends a worker may be started with (`--device`).
const (
	BackendSim  = "sim"  // always the simulated device
	BackendNVML = "nvml" // NVML or fail
	BackendAuto = "auto" // NVML where it loads, else the simulated device
)

// Discovered is one device as NVML lists it, for `make gpu-check`.
type Discovered struct {
	Index int
	Info
	GPUUtilization, MemoryUtilization uint32 // percent
}

// Open returns the device a worker runs on: backend is sim, nvml or auto
// ("" is sim). The simulated device takes name and memory from the
// configuration; an NVML one reports its own. close releases it. auto falls
// back to the simulated device only when NVML is not there (ErrNoNVML), and
// says so on log; any other NVML failure, or no device at index, is an error,
// so a GPU machine never silently serves from the simulator.
func Open(backend string, index int, name string, memoryBytes uint64, log *slog.Logger) (dev Device, closeFn func() error, err error) {
	if log == nil {
		log = slog.Default()
	}
	sim := func() (Device, func() error, error) {
		return NewSim(index, name, memoryBytes), func() error { return nil }, nil
	}
	switch backend {
	case "", BackendSim:
		return sim()
	case BackendNVML, BackendAuto:
		d, err := OpenDefault(index)
		if err == nil {
			d.SetLogger(log)
			return d, d.Close, nil
		}
		if backend == BackendAuto && errors.Is(err, ErrNoNVML) {
			log.Info("NVML is not available: the worker runs on the simulated device", "index", index, "err", err)
			return sim()
		}
		return nil, nil, err
	default:
		return nil, nil, fmt.Errorf("%w: %q, want sim, nvml or auto", ErrBackend, backend)
	}
}
