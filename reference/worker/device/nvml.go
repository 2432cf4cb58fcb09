//go:build cgo

package device

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// eventWaitMillis is how long one NVML event wait blocks before the watcher
// looks at its context again: short enough that a stopping worker is not held
// up, long enough that an idle watcher costs nothing.
const eventWaitMillis = 200

// watchedEvents are the NVML events a worker drains on: XID critical errors
// and uncorrectable ECC errors. Single-bit ECC errors are corrected and only
// counted by the driver.
const watchedEvents = uint64(nvml.EventTypeXidCriticalError | nvml.EventTypeDoubleBitEccError)

// NVML is one GPU reached through NVML. The worker's reservations are its
// own book-keeping on top of what the device reports, because the reference
// engine simulates its kernels: free memory is what NVML reports free less
// those reservations. It is safe for concurrent use.
type NVML struct {
	lib   nvml.Interface
	log   *slog.Logger
	dev   nvml.Device
	uuid  string
	name  string
	total uint64

	mu       sync.Mutex
	reserved uint64
	ceiling  uint64 // simulated free memory, when capped
	capped   bool
	injected eventQueue
}

var (
	_ Device      = (*NVML)(nil)
	_ EventSource = (*NVML)(nil)
	_ Injector    = (*NVML)(nil)
)

// OpenNVML initialises lib and opens the device at index. Close shuts lib
// down again (NVML counts Init and Shutdown calls).
func OpenNVML(lib nvml.Interface, index int) (*NVML, error) {
	if err := initNVML(lib); err != nil {
		return nil, err
	}
	d, err := openDevice(lib, index)
	if err != nil {
		_ = lib.Shutdown()
		return nil, err
	}
	return d, nil
}

func openDevice(lib nvml.Interface, index int) (*NVML, error) {
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("device: nvml device count: %s", nvml.ErrorString(ret))
	}
	if index < 0 || index >= n {
		return nil, fmt.Errorf("device: index %d of %d nvml devices: %w", index, n, ErrNoDevice)
	}
	dev, ret := lib.DeviceGetHandleByIndex(index)
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("device: nvml handle %d: %s", index, nvml.ErrorString(ret))
	}
	d := &NVML{lib: lib, dev: dev, log: slog.Default()}
	if d.uuid, ret = dev.GetUUID(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("device: nvml uuid of %d: %s", index, nvml.ErrorString(ret))
	}
	if d.name, ret = dev.GetName(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("device: nvml name of %d: %s", index, nvml.ErrorString(ret))
	}
	mem, ret := dev.GetMemoryInfo()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("device: nvml memory of %d: %s", index, nvml.ErrorString(ret))
	}
	d.total = mem.Total
	return d, nil
}

// initNVML initialises lib. Only a library or driver that is not there is ErrNoNVML, the one
// failure `auto` falls back to the simulated device on; any other (no permission, a driver
// mismatch, a corrupted install) is an error to fix, not a reason to run without the GPU.
func initNVML(lib nvml.Interface) error {
	switch ret := lib.Init(); ret {
	case nvml.SUCCESS:
		return nil
	case nvml.ERROR_LIBRARY_NOT_FOUND, nvml.ERROR_DRIVER_NOT_LOADED:
		return fmt.Errorf("%w: init: %s", ErrNoNVML, nvml.ErrorString(ret))
	default:
		return fmt.Errorf("device: nvml init: %s", nvml.ErrorString(ret))
	}
}

// SetLogger sets where the device logs what it cannot watch; slog.Default until set.
func (d *NVML) SetLogger(log *slog.Logger) { d.log = log }

// Close releases NVML.
func (d *NVML) Close() error {
	if ret := d.lib.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("device: nvml shutdown: %s", nvml.ErrorString(ret))
	}
	return nil
}

// Info reports the device as NVML sees it now, less this worker's
// reservations. A failed memory query reports nothing free, so a device that
// stops answering reads as under pressure rather than as idle.
func (d *NVML) Info() Info {
	mem, ret := d.dev.GetMemoryInfo()
	d.mu.Lock()
	defer d.mu.Unlock()
	free := uint64(0)
	if ret == nvml.SUCCESS {
		free = mem.Free - min(d.reserved, mem.Free)
	}
	if d.capped {
		free = min(free, d.ceiling)
	}
	return Info{UUID: d.uuid, Name: d.name, MemoryTotalBytes: d.total, MemoryUsedBytes: d.total - min(free, d.total), MemoryFreeBytes: free}
}

// Reserve implements Device against the free memory NVML reports.
func (d *NVML) Reserve(bytes uint64) error {
	free := d.Info().MemoryFreeBytes
	d.mu.Lock()
	defer d.mu.Unlock()
	if bytes > free {
		return fmt.Errorf("reserve %d bytes with %d free on %s: %w", bytes, free, d.uuid, ErrOutOfMemory)
	}
	d.reserved += bytes
	return nil
}

// Release implements Device.
func (d *NVML) Release(bytes uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reserved -= min(bytes, d.reserved)
}

// KVCapacityTokens implements Device like Sim does, over the device's total.
func (d *NVML) KVCapacityTokens(bytesPerToken uint64, utilization float64) int {
	if bytesPerToken == 0 || !(utilization > 0) {
		return 0
	}
	d.mu.Lock()
	budget := float64(d.total)*min(utilization, 1) - float64(d.reserved)
	d.mu.Unlock()
	if budget <= 0 {
		return 0
	}
	return int(min(math.Floor(budget/float64(bytesPerToken)), math.MaxInt32))
}

// SimulateFree implements Injector: free becomes a ceiling on the free
// memory NVML reports.
func (d *NVML) SimulateFree(free uint64, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ceiling, d.capped = free, on
}

// Inject implements Injector.
func (d *NVML) Inject(e Event) { d.injected.push(e) }

// WatchEvents implements EventSource: XID and double-bit ECC events from an
// NVML event set, and injected ones, until ctx ends. A device that supports
// neither is logged and reports only injected events. When the NVML watch
// fails, fn gets an EventWatchLost at once (the worker drains: a device whose
// faults we cannot see is not safe to trust) and injected events still flow,
// so the operator's reset works; the failure is returned when ctx ends.
func (d *NVML) WatchEvents(ctx context.Context, fn func(Event)) error {
	done := make(chan error, 1)
	go func() { done <- d.injected.watch(ctx, fn) }()
	err := d.watchNVML(ctx, fn)
	if err != nil && ctx.Err() == nil {
		fn(Event{Kind: EventWatchLost, Device: d.uuid, Detail: err.Error()})
	}
	injErr := <-done
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return injErr
}

func (d *NVML) watchNVML(ctx context.Context, fn func(Event)) error {
	supported, ret := d.dev.GetSupportedEventTypes()
	if ret != nvml.SUCCESS || supported&watchedEvents == 0 {
		d.log.Warn("device reports no XID or ECC events: only injected ones will drain the worker",
			"device", d.uuid, "name", d.name, "nvml", nvml.ErrorString(ret), "supported_events", supported)
		return nil
	}
	set, ret := d.lib.EventSetCreate()
	if ret != nvml.SUCCESS {
		return fmt.Errorf("device: nvml event set: %s", nvml.ErrorString(ret))
	}
	defer func() { _ = set.Free() }()
	if ret := d.dev.RegisterEvents(supported&watchedEvents, set); ret != nvml.SUCCESS {
		return fmt.Errorf("device: nvml register events on %s: %s", d.uuid, nvml.ErrorString(ret))
	}
	for ctx.Err() == nil {
		data, ret := set.Wait(eventWaitMillis)
		switch {
		case ret == nvml.ERROR_TIMEOUT:
			continue
		case ret != nvml.SUCCESS:
			return fmt.Errorf("device: nvml event wait on %s: %s", d.uuid, nvml.ErrorString(ret))
		case data.EventType&nvml.EventTypeXidCriticalError != 0:
			fn(Event{Kind: EventXID, XID: data.EventData, Device: d.uuid})
		case data.EventType&nvml.EventTypeDoubleBitEccError != 0:
			fn(Event{Kind: EventECC, Device: d.uuid})
		}
	}
	return ctx.Err()
}

// Discover lists every device lib reports: count, UUID, name, memory and
// utilization. It initialises and shuts lib down around the listing.
func Discover(lib nvml.Interface) ([]Discovered, error) {
	if err := initNVML(lib); err != nil {
		return nil, err
	}
	defer func() { _ = lib.Shutdown() }()
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("device: nvml device count: %s", nvml.ErrorString(ret))
	}
	out := make([]Discovered, 0, n)
	for i := range n {
		d, err := openDevice(lib, i)
		if err != nil {
			return nil, err
		}
		found := Discovered{Index: i, Info: d.Info()}
		if u, ret := d.dev.GetUtilizationRates(); ret == nvml.SUCCESS {
			found.GPUUtilization, found.MemoryUtilization = u.Gpu, u.Memory
		}
		out = append(out, found)
	}
	return out, nil
}

// OpenDefault opens device index through the system's NVML library.
func OpenDefault(index int) (*NVML, error) { return OpenNVML(nvml.New(), index) }

// DiscoverDefault lists the system's devices through its NVML library.
func DiscoverDefault() ([]Discovered, error) { return Discover(nvml.New()) }
