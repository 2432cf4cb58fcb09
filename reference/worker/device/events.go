package device

import (
	"context"
	"fmt"
	"sync"
)

// EventKind is the kind of a device event the worker acts on.
type EventKind string

// The device events a worker drains on. XID errors are the driver's reports of
// GPU faults (NVML EventTypeXidCriticalError); ECC errors its reports of
// uncorrectable (double-bit) memory errors.
const (
	EventXID EventKind = "xid"
	EventECC EventKind = "ecc"
	// EventWatchLost reports that the device's event source stopped: from then on an XID or ECC
	// error would go unseen, so a device we cannot watch is treated as faulted.
	EventWatchLost EventKind = "events_lost"
)

// Event is one device event.
type Event struct {
	Kind EventKind
	// XID is the XID of an EventXID.
	XID uint64
	// Device is the UUID of the device that reported it.
	Device string
	// Detail says why, for an EventWatchLost.
	Detail string
}

// String names the event for health reasons and logs, e.g. "xid 79".
func (e Event) String() string {
	switch e.Kind {
	case EventXID:
		return fmt.Sprintf("xid %d", e.XID)
	case EventWatchLost:
		return "device events lost: " + e.Detail
	}
	return string(e.Kind)
}

// EventSource is the optional ability of a device to report XID and ECC
// events. WatchEvents calls fn for each, on its own goroutine, until ctx ends.
type EventSource interface {
	WatchEvents(ctx context.Context, fn func(Event)) error
}

// Injector is the optional ability of a device to take simulated pressure and
// events from the operator's device hook. On real hardware the simulated free
// memory is a ceiling on what the device reports, never a floor.
type Injector interface {
	SimulateFree(free uint64, on bool)
	Inject(e Event)
}

// eventQueue hands injected events to one watcher at a time; events injected
// while nobody watches wait for the next watcher.
type eventQueue struct {
	mu      sync.Mutex
	pending []Event
	wake    chan struct{}
}

// push queues e and wakes the watcher.
func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	q.pending = append(q.pending, e)
	w := q.wakeLocked()
	q.mu.Unlock()
	select {
	case w <- struct{}{}:
	default:
	}
}

func (q *eventQueue) wakeLocked() chan struct{} {
	if q.wake == nil {
		q.wake = make(chan struct{}, 1)
	}
	return q.wake
}

// watch delivers queued events to fn until ctx ends.
func (q *eventQueue) watch(ctx context.Context, fn func(Event)) error {
	q.mu.Lock()
	w := q.wakeLocked()
	q.mu.Unlock()
	for {
		q.mu.Lock()
		batch := q.pending
		q.pending = nil
		q.mu.Unlock()
		for _, e := range batch {
			fn(e)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w:
		}
	}
}
