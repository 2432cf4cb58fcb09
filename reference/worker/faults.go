package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/worker/device"
)

// errDeviceFault ends the sequences running when the device reports an XID or ECC error: their
// KV state can no longer be trusted, so they are cut and the router finishes them elsewhere
// (those that sent nothing yet) or ends them as worker_lost.
var errDeviceFault = errors.New("worker: device fault")

// faultWait bounds how long the device hook waits for an injected event to reach the worker
// through the device's event path before it answers anyway.
const faultWait = 2 * time.Second

// inflight tracks the contexts of running Generate calls so a device fault can cut them all, and
// holds the fault: both under one lock, so a call cannot start on a device that just faulted.
type inflight struct {
	mu     sync.Mutex
	next   uint64
	calls  map[uint64]context.CancelCauseFunc
	fault  string
	cutAll chan struct{} // closed and replaced on every fault, for the hook to wait on
	// lastCut is how many calls the last trip cut, for the device hook's answer.
	lastCut int
}

// start registers a call; it fails with the fault when the device has one.
func (f *inflight) start(cancel context.CancelCauseFunc) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fault != "" {
		return 0, fmt.Errorf("%w: %s; the worker is drained until the device is reset", errDeviceFault, f.fault)
	}
	if f.calls == nil {
		f.calls = map[uint64]context.CancelCauseFunc{}
	}
	f.next++
	f.calls[f.next] = cancel
	return f.next, nil
}

func (f *inflight) done(id uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.calls, id)
}

// trip records fault and cuts every running call.
func (f *inflight) trip(fault string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = fault
	for _, cancel := range f.calls {
		cancel(fmt.Errorf("%w: %s", errDeviceFault, fault))
	}
	if f.cutAll != nil {
		close(f.cutAll)
		f.cutAll = nil
	}
	f.lastCut = len(f.calls)
	return f.lastCut
}

// cutByLastTrip is how many calls the last trip cut.
func (f *inflight) cutByLastTrip() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastCut
}

// faulted returns the fault, empty when there is none, and a channel closed at the next trip.
func (f *inflight) faulted() (string, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cutAll == nil {
		f.cutAll = make(chan struct{})
	}
	return f.fault, f.cutAll
}

func (f *inflight) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = ""
}

// onDeviceEvent is the device's event callback: the worker drains at once, except for an XID
// the configuration ignores because an application, not the device, caused it. A lost event
// source drains it too: faults it can no longer see would otherwise be served through.
func (s *Server) onDeviceEvent(e device.Event) {
	if e.Kind == device.EventXID && slices.Contains(s.ignoredXIDs, e.XID) {
		s.log.Info("device event ignored: an application XID", "event", e.String(), "device", e.Device)
		return
	}
	cut := s.inflight.trip(e.String())
	s.metrics.fault()
	if e.Kind == device.EventWatchLost {
		s.log.Error("device events lost: draining, the device cannot be trusted until reset", "device", e.Device, "err", e.Detail, "cut_sequences", cut)
		return
	}
	s.log.Warn("device fault: draining", "event", e.String(), "device", e.Device, "cut_sequences", cut)
}

// watchDevice runs the device's event source, if it has one, until ctx ends.
func (s *Server) watchDevice(ctx context.Context) {
	src, ok := s.dev.(device.EventSource)
	if !ok {
		return
	}
	if err := src.WatchEvents(ctx, s.onDeviceEvent); err != nil && ctx.Err() == nil {
		s.log.Error("device events stopped", "err", err)
	}
}

// watchPressure reads free device memory every interval until ctx ends.
func (s *Server) watchPressure(ctx context.Context, interval time.Duration) {
	if s.res.threshold == 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.res.check()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeviceEvent serves the operator's device hook (forwarded by the router with the worker
// credential): simulated memory pressure, an XID or ECC event, or clearing both. It drives the
// device layer, so the worker reacts exactly as to the real thing.
func (s *Server) DeviceEvent(ctx context.Context, req *arcertv1.DeviceEventRequest) (*arcertv1.DeviceEventResponse, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	var cut int64 // sequences an xid or ecc event cut; 0 when it never reached the worker in time
	inj, ok := s.dev.(device.Injector)
	if !ok {
		return nil, status.Errorf(codes.FailedPrecondition, "worker %s: its device takes no injected events", s.id)
	}
	switch req.GetKind() {
	case "memory_pressure":
		free := req.GetFreeBytes()
		if free == 0 && s.res.threshold > 0 {
			free = s.res.threshold - 1
		}
		inj.SimulateFree(free, true)
		if s.res.check() {
			// What the shrunk L1 evicted is demoted before the hook answers (bounded by
			// faultWait), so the pressure the caller asked for has been applied whole.
			fctx, cancel := context.WithTimeout(ctx, faultWait)
			s.tiers.flush(fctx)
			cancel()
		}
	case "xid", "ecc":
		e := device.Event{Kind: device.EventECC, Device: s.dev.Info().UUID}
		if req.GetKind() == "xid" {
			e.Kind, e.XID = device.EventXID, req.GetXid()
		}
		_, tripped := s.inflight.faulted()
		inj.Inject(e)
		if e.Kind == device.EventXID && slices.Contains(s.ignoredXIDs, e.XID) {
			break // an application XID: nothing will trip
		}
		t := time.NewTimer(faultWait)
		select {
		case <-tripped:
			cut = int64(s.inflight.cutByLastTrip())
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	case device.AttestStale, device.AttestForged, device.AttestUnpinned, device.AttestWithdrawn, device.AttestModeOff:
		if err := s.attestFault(req.GetKind()); err != nil {
			return nil, status.Errorf(codes.FailedPrecondition, "worker %s: %v", s.id, err)
		}
	case attestReplayed:
		if err := s.replayAttestation(ctx); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "worker %s: %v", s.id, err)
		}
	case "clear":
		_ = s.attestFault("")
		s.replayed.Store(nil)
		inj.SimulateFree(0, false)
		s.inflight.clear()
		s.res.check()
	default:
		return nil, status.Errorf(codes.InvalidArgument, "device event kind %q; want memory_pressure, xid, ecc, attestation_stale, attestation_forged, attestation_unpinned, attestation_withdrawn, attestation_mode_off, attestation_replayed or clear", req.GetKind())
	}
	fault, _ := s.inflight.faulted()
	return &arcertv1.DeviceEventResponse{Worker: s.id, Healthy: fault == "" && s.live.Load(), Device: s.res.status(fault),
		CutSequences: cut}, nil
}
