package admission

import (
	"fmt"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// Share is this controller's part of limits declared for the whole runtime when several routers
// enforce them together: it is router Index (counting from 0) of Of routers alive. Each router
// enforces Split of every declared limit, so the routers together never admit more than one
// router alone would: the slots (capacity), each class's queue bound, and each tenant's
// concurrency, request and token buckets. Share{0, 1} is the whole of every limit.
type Share struct {
	Index, Of int
}

// Split is router index's part of limit when of routers share it: limit/of, with the remainder
// going one each to the lowest indices. The parts sum to limit exactly, so the routers never
// exceed it together, and each is at least 1 when limit ≥ of. When limit < of, the routers from
// index limit on get 0: they refuse what that limit bounds rather than let the sum exceed it.
func Split(limit, index, of int) int {
	if of <= 1 || limit <= 0 {
		return max(0, limit)
	}
	part := limit / of
	if index < limit%of {
		part++
	}
	return part
}

// ShareStatus is the share in force and the declared limits it divides, for metrics and health.
type ShareStatus struct {
	Share
	// DeclaredCapacity is the capacity the router last computed from its workers, before the
	// split; Snapshot().Capacity is this router's part of it.
	DeclaredCapacity int
}

// shared keeps the declared limits a Share divides. It is captured from the controller's
// configuration at the first SetShare, so the split is always taken of the declared numbers and
// never of an earlier share.
type shared struct {
	Share
	capacity int
	queues   map[*class]int
	tenants  map[*tenant]declaredTenant
}

// declaredTenant is a tenant's declared concurrency and the buckets New built from its quota.
type declaredTenant struct {
	maxConcurrency           int
	requestsRate, tokensRate rate.Limit
	requestsBurst            int
	tokensBurst              int
}

// SetShare makes this controller enforce its share s of every declared limit, at once: slots
// freed by a larger share go to waiters, and a smaller one revokes nothing already granted or
// queued, it only grants and queues less until enough has ended. Each token bucket's burst is
// split, and its rate in proportion to the burst part it keeps, so that the rates too sum to the
// declared one; a burst smaller than the number of routers is not split but kept at 1 in every
// router, each with an equal part of the rate (see splitBucket). A request needing more tokens than this router's part
// of the token burst is refused for quota here, as one beyond the whole burst is anywhere.
func (c *Controller) SetShare(s Share) error {
	if s.Of < 1 || s.Index < 0 || s.Index >= s.Of {
		return fmt.Errorf("%w: share %d of %d, want 0 <= index < routers", ErrInvalidConfig, s.Index, s.Of)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.share == nil {
		d := &shared{capacity: c.capacity, queues: map[*class]int{}, tenants: map[*tenant]declaredTenant{}}
		for _, k := range c.byPriority {
			d.queues[k] = k.spec.QueueCapacity
		}
		for _, t := range c.tenantList {
			d.tenants[t] = declaredTenant{maxConcurrency: t.spec.MaxConcurrency,
				requestsRate: t.requests.Limit(), requestsBurst: t.requests.Burst(),
				tokensRate: t.tokens.Limit(), tokensBurst: t.tokens.Burst()}
		}
		c.share = d
	}
	c.share.Share = s
	split := func(limit int) int { return Split(limit, s.Index, s.Of) }
	c.capacity = split(c.share.capacity)
	for k, bound := range c.share.queues {
		k.spec.QueueCapacity = split(bound)
	}
	now := c.now()
	for t, d := range c.share.tenants {
		t.spec.MaxConcurrency = split(d.maxConcurrency)
		splitBucket(t.requests, now, d.requestsRate, d.requestsBurst, s)
		splitBucket(t.tokens, now, d.tokensRate, d.tokensBurst, s)
	}
	c.dispatchLocked()
	return nil
}

// splitBucket gives l its part of a bucket declared with limit and burst. Tokens already in the
// bucket are kept up to the new burst, never added: a grown share refills at the new rate.
//
// When the burst is smaller than the number of routers (a tenant of fewer than 60 requests a
// minute per router, with the default burst window of a second), a part of it would be 0 and that
// router would refuse every request of the tenant with no time to retry after. Every router keeps
// a burst of 1 instead, and an equal part of the rate: the rates still sum to the declared one,
// and the bursts sum to the number of routers, at most routers - 1 requests above the declared
// burst. That bounded overshoot is the price of refusing nobody for good; it is stated in the
// README.
func splitBucket(l *rate.Limiter, now time.Time, limit rate.Limit, burst int, s Share) {
	if burst < s.Of {
		l.SetBurstAt(now, 1)
		l.SetLimitAt(now, limit/rate.Limit(s.Of))
		return
	}
	part := Split(burst, s.Index, s.Of)
	l.SetBurstAt(now, part)
	l.SetLimitAt(now, limit*rate.Limit(part)/rate.Limit(burst))
}

// ShareStatus returns the share in force (Share{0, 1} when SetShare was never called) and the
// declared capacity it divides.
func (c *Controller) ShareStatus() ShareStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.share == nil {
		return ShareStatus{Share: Share{Index: 0, Of: 1}, DeclaredCapacity: c.capacity}
	}
	return ShareStatus{Share: c.share.Share, DeclaredCapacity: c.share.capacity}
}

// setCapacityLocked records n as the declared capacity and enforces this router's part of it.
func (c *Controller) setCapacityLocked(n int) {
	if c.share == nil {
		c.capacity = n
		return
	}
	c.share.capacity = n
	c.capacity = Split(n, c.share.Index, c.share.Of)
}

// declaredConcurrencyLocked is tenant t's declared MaxConcurrency, whatever its share: what the
// quota endpoint tells the tenant it is held to across every router.
func (c *Controller) declaredConcurrencyLocked(t *tenant) int {
	if c.share == nil {
		return t.spec.MaxConcurrency
	}
	return c.share.tenants[t].maxConcurrency
}

// partLocked states a limit as enforced: n alone, or, when the routers split the limits, "this
// router's part n of the declared d", so that a refusal does not quote the part as the limit.
func (c *Controller) partLocked(n, declared int) string {
	if c.share == nil || c.share.Of == 1 {
		return strconv.Itoa(n)
	}
	return fmt.Sprintf("this router's part %d of the declared %d", n, declared)
}

// queuePartLocked is class k's queue bound as enforced (see partLocked).
func (c *Controller) queuePartLocked(k *class) string {
	if c.share == nil {
		return strconv.Itoa(k.spec.QueueCapacity)
	}
	return c.partLocked(k.spec.QueueCapacity, c.share.queues[k])
}
