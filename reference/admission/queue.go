package admission

import (
	"container/list"
	"time"
)

// class is one traffic class and its bounded queue of waiters, one FIFO per tenant (fair.go),
// guarded by Controller.mu.
type class struct {
	spec   ClassSpec
	flows  []*flow // one per tenant that has queued here, in order of first use
	queued int     // waiters in every flow
	// vtime is the class's virtual time: the start tag of the waiter it served last.
	vtime float64
}

// waiter is one queued Admit. Exactly one of ticket and err is set, under Controller.mu, before
// ready is closed; elem is nil once the waiter has left its queue.
type waiter struct {
	tenant   *tenant
	class    *class
	hold     *hold
	flow     *flow
	seq      uint64  // arrival order across classes, for equal priorities
	start    float64 // virtual start tag in its class (fair.go)
	enqueued time.Time
	elem     *list.Element
	ready    chan struct{}
	ticket   *Ticket
	err      error
}

// Ticket is one granted slot. The router holds it while a worker serves the request and releases
// it when the request ends, whatever the outcome.
type Ticket struct {
	c        *Controller
	tenant   *tenant
	waited   time.Duration
	released bool // guarded by c.mu
}

// Release frees the slot and the tenant's concurrency and hands the slot to the next waiter. It
// is idempotent, so the router may defer it and also call it early.
func (t *Ticket) Release() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.c.releaseLocked(t)
}

// Waited is how long the request spent queued before its slot was granted, for the queue-time
// metric and for evidence.
func (t *Ticket) Waited() time.Duration { return t.waited }

// Snapshot is the controller's load at one instant, for metrics and health.
type Snapshot struct {
	Capacity int
	InFlight int
	// Queued is the number of waiters per class, every declared class present.
	Queued   map[string]int
	Draining bool
}

// Snapshot returns the current load.
func (c *Controller) Snapshot() Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Snapshot{Capacity: c.capacity, InFlight: c.inFlight, Draining: c.draining,
		Queued: make(map[string]int, len(c.classes))}
	for name, k := range c.classes {
		s.Queued[name] = k.queued
	}
	return s
}

// SetCapacity sets the number of concurrent slots. Growing hands the new slots to waiters at
// once; shrinking never revokes a granted ticket, it only stops granting until enough are
// released. Negative n is treated as 0. Under a Share (share.go), n is the declared capacity and
// the controller enforces its part of it.
func (c *Controller) SetCapacity(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setCapacityLocked(max(0, n))
	c.dispatchLocked()
}

// Drain stops admission for shutdown: from now on Admit returns ErrDraining and every queued
// waiter is woken with ErrDraining, its quota given back. Granted tickets stay valid, so work in
// flight can finish.
func (c *Controller) Drain() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.draining = true
	for _, k := range c.byPriority {
		for _, f := range k.flows {
			for f.waiting.Len() > 0 {
				w := c.dequeueLocked(f.waiting.Front().Value.(*waiter))
				w.hold.cancel()
				w.err = ErrDraining
				close(w.ready)
			}
		}
	}
}

// enqueueLocked appends a waiter for tenant t to its flow in class k.
func (c *Controller) enqueueLocked(t *tenant, k *class, h *hold) *waiter {
	c.arrivals++
	f := k.flowOf(t)
	w := &waiter{tenant: t, class: k, flow: f, hold: h, seq: c.arrivals, enqueued: c.now(),
		ready: make(chan struct{})}
	c.stampLocked(k, f, w)
	w.elem = f.waiting.PushBack(w)
	k.queued++
	t.queued++
	if c.onEnqueue != nil {
		c.onEnqueue(k.spec.Name, k.queued)
	}
	return w
}

// dequeueLocked removes w from its queue and returns it.
func (c *Controller) dequeueLocked(w *waiter) *waiter {
	w.flow.waiting.Remove(w.elem)
	w.elem = nil
	w.class.queued--
	w.tenant.queued--
	return w
}

// grantLocked takes a slot for tenant t and returns its ticket.
func (c *Controller) grantLocked(t *tenant, waited time.Duration) *Ticket {
	c.inFlight++
	t.inFlight++
	return &Ticket{c: c, tenant: t, waited: waited}
}

// releaseLocked frees ticket t's slot once and passes it on.
func (c *Controller) releaseLocked(t *Ticket) {
	if t.released {
		return
	}
	t.released = true
	c.inFlight--
	t.tenant.inFlight--
	c.dispatchLocked()
}

// dispatchLocked hands free slots to waiters whose tenant may take one (headroom.go): the
// highest class priority first, within a class the fair queue's next such waiter (fair.go), and
// among classes of equal priority the earlier arrival of their next waiters. It runs whenever a
// slot frees, capacity grows or a request arrives, so a free slot coexists only with waiters
// held back for quieter tenants, and a new arrival can never jump the queue.
func (c *Controller) dispatchLocked() {
	for c.inFlight < c.capacity {
		w := c.nextLocked()
		if w == nil {
			return
		}
		c.dequeueLocked(w)
		w.class.vtime = max(w.class.vtime, w.start)
		w.ticket = c.grantLocked(w.tenant, c.now().Sub(w.enqueued))
		close(w.ready)
	}
	c.armLapseLocked()
}

// nextLocked is the waiter that the next free slot goes to, or nil.
func (c *Controller) nextLocked() *waiter {
	var best *waiter
	for _, k := range c.byPriority {
		w := k.front(c.mayTakeLocked)
		if w == nil {
			continue
		}
		if best != nil && best.class.spec.Priority > k.spec.Priority {
			break // byPriority is sorted, so no later class can win
		}
		if best == nil || w.seq < best.seq {
			best = w
		}
	}
	return best
}
