//go:build cgo

package device

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
)

// mockGPU is go-nvml's DGX A100 mock with the calls it leaves unimplemented
// stubbed: memory reads a settable free figure, utilization is fixed, and
// the event set delivers what the test queues. Stubs are set before any
// goroutine starts, as the mock requires.
type mockGPU struct {
	*dgxa100.Server
	free   atomic.Uint64
	events chan nvml.EventData
}

func newMockGPU(t *testing.T) *mockGPU {
	t.Helper()
	m := &mockGPU{Server: dgxa100.New(), events: make(chan nvml.EventData, 4)}
	m.free.Store(30 * gib)
	for _, d := range m.Devices {
		dev := d.(*dgxa100.Device)
		dev.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) {
			free := m.free.Load()
			return nvml.Memory{Total: dev.MemoryInfo.Total, Free: free, Used: dev.MemoryInfo.Total - free}, nvml.SUCCESS
		}
		dev.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) { return nvml.Utilization{Gpu: 42, Memory: 7}, nvml.SUCCESS }
		dev.GetSupportedEventTypesFunc = func() (uint64, nvml.Return) { return nvml.EventTypeAll, nvml.SUCCESS }
		dev.RegisterEventsFunc = func(uint64, nvml.EventSet) nvml.Return { return nvml.SUCCESS }
	}
	m.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) {
		return &mock.EventSet{
			WaitFunc: func(ms uint32) (nvml.EventData, nvml.Return) {
				select {
				case e := <-m.events:
					return e, nvml.SUCCESS
				case <-time.After(time.Duration(ms) * time.Millisecond):
					return nvml.EventData{}, nvml.ERROR_TIMEOUT
				}
			},
			FreeFunc: func() nvml.Return { return nvml.SUCCESS },
		}, nvml.SUCCESS
	}
	return m
}

func TestDiscoverListsEveryMockDevice(t *testing.T) {
	found, err := Discover(newMockGPU(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 8 {
		t.Fatalf("discovered %d devices, want the mock's 8", len(found))
	}
	for _, d := range found {
		if d.UUID == "" || d.Name != "Mock NVIDIA A100-SXM4-40GB" || d.MemoryTotalBytes != 42949672960 || d.GPUUtilization != 42 || d.Simulated {
			t.Errorf("device %d = %+v", d.Index, d)
		}
	}
}

func TestNVMLMemoryFollowsTheDeviceAndTheReservations(t *testing.T) {
	m := newMockGPU(t)
	d, err := OpenNVML(m, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if err := d.Reserve(2 * gib); err != nil {
		t.Fatal(err)
	}
	if got := d.Info().MemoryFreeBytes; got != 28*gib {
		t.Fatalf("free = %d, want 28 GiB (30 reported less 2 reserved)", got)
	}
	m.free.Store(5 * gib) // another process took memory
	if got := d.Info().MemoryFreeBytes; got != 3*gib {
		t.Fatalf("free = %d after the device lost memory, want 3 GiB", got)
	}
	if err := d.Reserve(4 * gib); !errors.Is(err, ErrOutOfMemory) {
		t.Fatalf("Reserve beyond free = %v, want ErrOutOfMemory", err)
	}
	d.SimulateFree(gib, true)
	if got := d.Info().MemoryFreeBytes; got != gib {
		t.Fatalf("free = %d under simulated pressure, want 1 GiB", got)
	}
	d.SimulateFree(0, false)
	if got := d.Info().MemoryFreeBytes; got != 3*gib {
		t.Fatalf("free = %d after clearing, want 3 GiB", got)
	}
}

func TestNVMLReportsXIDAndECCEvents(t *testing.T) {
	m := newMockGPU(t)
	d, err := OpenNVML(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan Event, 4)
	done := make(chan error, 1)
	go func() { done <- d.WatchEvents(ctx, func(e Event) { got <- e }) }()
	m.events <- nvml.EventData{EventType: nvml.EventTypeXidCriticalError, EventData: 79}
	m.events <- nvml.EventData{EventType: nvml.EventTypeDoubleBitEccError}
	d.Inject(Event{Kind: EventXID, XID: 48})
	want := map[string]bool{"xid 79": true, "ecc": true, "xid 48": true}
	for range 3 {
		select {
		case e := <-got:
			if !want[e.String()] {
				t.Errorf("unexpected event %v", e)
			}
			delete(want, e.String())
		case <-time.After(5 * time.Second):
			t.Fatalf("events not delivered: still waiting for %v", want)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("WatchEvents returned %v after cancel, want context.Canceled", err)
	}
}

func TestOpenWithoutNVMLFallsBackOnlyForAuto(t *testing.T) {
	if _, err := DiscoverDefault(); err == nil {
		t.Skip("this machine has an NVIDIA driver; the fallback is for machines without one")
	}
	if _, _, err := Open(BackendNVML, 0, "sim", gib, nil); !errors.Is(err, ErrNoNVML) {
		t.Fatalf("Open(nvml) without a driver = %v, want ErrNoNVML", err)
	}
	dev, closeFn, err := Open(BackendAuto, 0, "sim", gib, nil)
	if err != nil || !dev.Info().Simulated {
		t.Fatalf("Open(auto) without a driver = %+v, %v; want the simulated device", dev, err)
	}
	_ = closeFn()
	if _, _, err := Open("cuda", 0, "sim", gib, nil); !errors.Is(err, ErrBackend) {
		t.Fatalf("Open(cuda) = %v, want ErrBackend", err)
	}
}

func TestNVMLWatchFailureIsReportedAtOnce(t *testing.T) {
	m := newMockGPU(t)
	m.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) {
		return &mock.EventSet{
			WaitFunc: func(uint32) (nvml.EventData, nvml.Return) { return nvml.EventData{}, nvml.ERROR_GPU_IS_LOST },
			FreeFunc: func() nvml.Return { return nvml.SUCCESS },
		}, nvml.SUCCESS
	}
	d, err := OpenNVML(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan Event, 4)
	done := make(chan error, 1)
	go func() { done <- d.WatchEvents(ctx, func(e Event) { got <- e }) }()
	select {
	case e := <-got:
		if e.Kind != EventWatchLost || e.Device == "" {
			t.Fatalf("first event = %+v, want EventWatchLost naming the device", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a failed NVML watch was not reported before shutdown")
	}
	d.Inject(Event{Kind: EventXID, XID: 48}) // injected events still flow after the loss
	select {
	case e := <-got:
		if e.String() != "xid 48" {
			t.Fatalf("injected event = %v, want xid 48", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("injected event not delivered after the NVML watch was lost")
	}
	cancel()
	if err := <-done; err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("WatchEvents returned %v, want the NVML failure", err)
	}
}

func TestOnlyAMissingLibraryIsNoNVML(t *testing.T) {
	for ret, want := range map[nvml.Return]bool{nvml.ERROR_LIBRARY_NOT_FOUND: true, nvml.ERROR_DRIVER_NOT_LOADED: true, nvml.ERROR_NO_PERMISSION: false} {
		m := newMockGPU(t)
		m.InitFunc = func() nvml.Return { return ret }
		_, err := OpenNVML(m, 0)
		if err == nil || errors.Is(err, ErrNoNVML) != want {
			t.Errorf("init %s: OpenNVML = %v; ErrNoNVML want %v", nvml.ErrorString(ret), err, want)
		}
	}
}
