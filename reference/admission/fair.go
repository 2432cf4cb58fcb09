package admission

import (
	"container/list"
	"fmt"
)

// Fair queuing inside a class.
//
// A class queue is one FIFO per tenant (a flow) and a start-time fair queuing scheduler across
// them: each waiter is stamped on arrival with a virtual start tag, max(class virtual time, its
// flow's last finish tag), and its flow's finish tag advances by 1/weight. The next slot of the
// class goes to the smallest start tag, and the class's virtual time becomes that tag. A tenant
// that floods the class therefore queues behind its own backlog, while a quiet tenant's waiter
// starts at the current virtual time and is served next: each tenant waiting in a class gets
// slots in proportion to its weight, whatever the others send.
//
// The class's queue bound is split the same way. While other tenants wait, a tenant may hold at
// most its weighted share of the bound (QueueCapacity × weight / sum of the weights of the tenants
// waiting, at least one place); alone it may use all of it. A tenant over its share is shed with
// ErrQueueFull, and a tenant under its share that finds the queue full takes the place of the
// newest waiter of the tenant most over its share, which is shed with ErrQueueFull: the flood
// pays for the flood, and the quiet tenant keeps its place.

// flow is one tenant's FIFO of waiters in one class, guarded by Controller.mu.
type flow struct {
	tenant  *tenant
	waiting list.List // of *waiter, oldest first
	// finish is the virtual finish tag of the flow's last enqueued waiter.
	finish float64
}

// weight is the flow's share of its class relative to the other flows.
func (f *flow) weight() float64 { return float64(f.tenant.spec.weight()) }

// flowOf is tenant t's flow in class k, made on first use.
func (k *class) flowOf(t *tenant) *flow {
	for _, f := range k.flows {
		if f.tenant == t {
			return f
		}
	}
	f := &flow{tenant: t}
	k.flows = append(k.flows, f)
	return f
}

// share is how many places of the class bound flow f may hold now: its weight's part of the
// bound among the tenants waiting, f and arriving counted as waiting; at least one.
func (k *class) share(f, arriving *flow) int {
	total := 0.0
	for _, g := range k.flows {
		if g == f || g == arriving || g.waiting.Len() > 0 {
			total += g.weight()
		}
	}
	return max(1, int(float64(k.spec.QueueCapacity)*f.weight()/total))
}

// makeRoomLocked decides whether tenant t may queue one more waiter in class k, shedding another
// tenant's newest waiter when t is within its share but the class is full. It returns
// ErrQueueFull when t itself must be shed.
func (c *Controller) makeRoomLocked(k *class, t *tenant) error {
	if c.sharedFIFO {
		if k.queued >= k.spec.QueueCapacity {
			return fmt.Errorf("%w: class %q holds %s", ErrQueueFull, k.spec.Name, c.queuePartLocked(k))
		}
		return nil
	}
	f := k.flowOf(t)
	if share := k.share(f, f); f.waiting.Len() >= share {
		return fmt.Errorf("%w: tenant %q holds its share of %d of class %q's %s places",
			ErrQueueFull, t.spec.Name, share, k.spec.Name, c.queuePartLocked(k))
	}
	if k.queued < k.spec.QueueCapacity {
		return nil
	}
	victim := k.mostOverShare(f)
	if victim == nil {
		return fmt.Errorf("%w: class %q holds %s", ErrQueueFull, k.spec.Name, c.queuePartLocked(k))
	}
	w := c.dequeueLocked(victim.waiting.Back().Value.(*waiter))
	victim.finish = w.start // the shed waiter's turn is given back to its flow
	w.hold.cancel()
	w.err = fmt.Errorf("%w: tenant %q was over its share of class %q when another tenant arrived",
		ErrQueueFull, victim.tenant.spec.Name, k.spec.Name)
	close(w.ready)
	return nil
}

// mostOverShare is the flow holding the most places beyond its share once arriving waits too, or
// nil if none is over.
func (k *class) mostOverShare(arriving *flow) *flow {
	var worst *flow
	worstOver := 0
	for _, f := range k.flows {
		if over := f.waiting.Len() - k.share(f, arriving); over > worstOver {
			worst, worstOver = f, over
		}
	}
	return worst
}

// stampLocked gives a new waiter of flow f its virtual start tag and advances f's finish tag.
// Under the shared-FIFO defect the tag is the arrival order, which makes the class one FIFO.
func (c *Controller) stampLocked(k *class, f *flow, w *waiter) {
	if c.sharedFIFO {
		w.start = float64(w.seq)
		return
	}
	w.start = max(k.vtime, f.finish)
	f.finish = w.start + 1/f.weight()
}

// front is the waiter class k serves next: the smallest start tag among the oldest waiters of
// the flows whose tenant may take a slot, the earlier arrival on a tie; nil if there is none.
func (k *class) front(mayTake func(*tenant) bool) *waiter {
	var best *waiter
	for _, f := range k.flows {
		e := f.waiting.Front()
		if e == nil || !mayTake(f.tenant) {
			continue
		}
		w := e.Value.(*waiter)
		if best == nil || w.start < best.start || (w.start == best.start && w.seq < best.seq) {
			best = w
		}
	}
	return best
}
