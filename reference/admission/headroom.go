package admission

import (
	"math"
	"time"
)

// Headroom for tenants below their share of the slots.
//
// Fair queuing (fair.go) decides who gets a slot when one frees, but a quiet tenant that arrives
// while a flood holds every slot still waits for one to free, and on a batch engine that wait is
// up to a whole sequence's time: the quiet tenant's latency doubles under a neighbour's flood
// although it is far inside its share. So while more than one tenant is active, a tenant at or
// over its share of the slots (Capacity × weight / sum of the active tenants' weights) may not
// take the last free slots: what each other active tenant lacks to its share is held back for it,
// in all at most a quarter of the capacity. A tenant below its share may take any free slot.
// Alone, a tenant may use every slot, so headroom costs nothing when nobody else is there.
//
// Holding back a single slot is not enough: a quiet tenant's requests overlap (at 30 a second of
// 60 ms each it holds two or three at once), and the held slot comes back only when the flood's
// next sequence ends, so its second request would again wait for a whole sequence.
//
// A tenant is active while it holds a slot, waits in a queue, or asked for admission within
// ActiveWindow. Holding back is safe from stalls: a tenant denied a free slot is over its share,
// so it holds slots, and each release dispatches again with the activity of that moment; and
// when a tenant's window lapses with nothing else happening, a timer dispatches then
// (armLapseLocked). A tenant is held back no more than its own concurrency lets it use.

// DefaultActiveWindow is Config.ActiveWindow when it is zero: a tenant that asked within the last
// second is still there, even between two of its requests.
const DefaultActiveWindow = time.Second

// headroomFraction bounds the slots held back for quiet tenants to a quarter of the capacity: a
// flood still gets three quarters of the runtime while a quiet tenant is active, and all of it
// once the quiet tenant holds its share or leaves.
const headroomFraction = 4

// activeLocked reports whether tenant t is active at now.
func (c *Controller) activeLocked(t *tenant, now time.Time) bool {
	return t.inFlight > 0 || t.queued > 0 || (!t.lastSeen.IsZero() && now.Sub(t.lastSeen) < c.activeWindow)
}

// mayTakeLocked reports whether tenant t may take a free slot now: there is one, and t is below
// its share or more slots are free than are held back for the other active tenants below theirs.
func (c *Controller) mayTakeLocked(t *tenant) bool {
	free := c.capacity - c.inFlight
	if free <= 0 {
		return false
	}
	if c.sharedFIFO {
		return true // the defect also has no headroom: one tenant may fill every slot
	}
	now := c.now()
	total := 0.0
	for _, u := range c.tenantList {
		if u == t || c.activeLocked(u, now) {
			total += float64(u.spec.weight())
		}
	}
	share := func(u *tenant) float64 { return float64(c.capacity) * float64(u.spec.weight()) / total }
	if float64(t.inFlight) < share(t) {
		return true
	}
	held := 0
	for _, u := range c.tenantList {
		if u != t && c.activeLocked(u, now) {
			// What u lacks to its share, but no more than its own concurrency lets it use.
			held += max(0, min(int(math.Ceil(share(u)))-u.inFlight, u.spec.MaxConcurrency-u.outstanding()))
		}
	}
	return free > min(held, c.capacity/headroomFraction)
}

// armLapseLocked makes sure slots held back for a tenant that is active only because it asked
// recently are handed out when its window lapses, though nothing else happens then: while a
// waiter is held back from a free slot, a timer dispatches again at the earliest such lapse.
// Without it, a flood's waiter could time out in its queue beside idle slots kept for a tenant
// that has left.
func (c *Controller) armLapseLocked() {
	if c.inFlight >= c.capacity || c.sharedFIFO || !c.anyWaiterLocked() {
		return
	}
	now := c.now()
	var first time.Time
	for _, u := range c.tenantList {
		if u.inFlight > 0 || u.queued > 0 || u.lastSeen.IsZero() {
			continue // active by its work (a release or grant dispatches), or never seen
		}
		if end := u.lastSeen.Add(c.activeWindow); end.After(now) && (first.IsZero() || end.Before(first)) {
			first = end
		}
	}
	if first.IsZero() || (c.lapse != nil && !c.lapseAt.After(first)) {
		return
	}
	if c.lapse != nil {
		c.lapse.Stop()
	}
	c.lapseAt = first
	c.lapse = time.AfterFunc(first.Sub(now), func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.lapse = nil
		c.dispatchLocked()
	})
}

// anyWaiterLocked reports whether any class has a waiter.
func (c *Controller) anyWaiterLocked() bool {
	for _, k := range c.byPriority {
		if k.queued > 0 {
			return true
		}
	}
	return false
}
