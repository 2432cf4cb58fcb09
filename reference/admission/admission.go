// Package admission is the router's admission control: it decides, for every authenticated
// request and before any queue grows, whether the request runs now, waits, or is refused.
//
// The contract (DESIGN.md §1, §4) makes each refusal a different outcome, so each is a different
// error: an unknown name, a tenant over its concurrency, a tenant over its request or token quota
// (per-tenant token buckets from golang.org/x/time/rate), a full class queue, a deadline passed
// in the queue, and draining. Slots are shared by all tenants; when one frees it goes to the
// waiter of the highest class priority and, within a class, to the tenants waiting in proportion to
// their weights (fair.go), so one tenant's flood queues behind itself. One exception to the
// priorities: while other tenants are active, a tenant over its share leaves free the slots they
// lack to theirs (headroom.go), so a quiet tenant does not wait for the flood's sequences to end,
// and a quiet tenant's request of a lower class may take such a slot while the flood's waiters of
// a higher class stay queued. Queues are bounded so that overload
// sheds at once with Retry-After instead of growing latency without limit.
//
// The Controller starts no goroutines of its own but one timer's, which hands out slots held back
// for a tenant when its activity window lapses (headroom.go); Admit blocks only the caller, and
// only until its context ends, its slot is granted or Drain is called.
package admission

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Request is what admission needs to know about one request.
type Request struct {
	Tenant string // the authenticated tenant, never a header or body field
	Class  string // the traffic class
	// Tokens is prompt tokens plus max_tokens, charged against TokensPerMinute up front because
	// the completion's length is not known until it ends.
	Tokens int
}

// Controller admits requests against per-tenant quotas and shared, prioritised slots. It is safe
// for concurrent use.
type Controller struct {
	now func() time.Time // time.Now; tests replace it to check bucket arithmetic

	// onEnqueue, when set by tests, is called under mu with a class and its new queue length.
	onEnqueue func(class string, depth int)

	mu         sync.Mutex
	tenants    map[string]*tenant
	tenantList []*tenant // the same tenants in configuration order, for headroom.go's scans
	classes    map[string]*class
	byPriority []*class // highest priority first, config order among equals
	capacity   int
	inFlight   int
	arrivals   uint64
	draining   bool
	sharedFIFO bool // Config.SharedFIFO
	// activeWindow is Config.ActiveWindow with its default applied (headroom.go).
	activeWindow time.Duration
	// lapse, when set, dispatches at lapseAt, when a tenant's activity window ends while slots
	// are held back for it (armLapseLocked).
	lapse   *time.Timer
	lapseAt time.Time
	// share, once SetShare is called, is this router's part of the declared limits (share.go).
	share *shared
}

// New validates cfg and returns a Controller. Errors wrap ErrInvalidConfig and name the field.
func New(cfg Config) (*Controller, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	window := cfg.BurstWindow
	if window == 0 {
		window = DefaultBurstWindow
	}
	c := &Controller{
		now:          time.Now,
		tenants:      make(map[string]*tenant, len(cfg.Tenants)),
		classes:      make(map[string]*class, len(cfg.Classes)),
		capacity:     cfg.Capacity,
		sharedFIFO:   cfg.SharedFIFO,
		activeWindow: cmp.Or(cfg.ActiveWindow, DefaultActiveWindow),
	}
	for _, t := range cfg.Tenants {
		nt := newTenant(t, window)
		c.tenants[t.Name] = nt
		c.tenantList = append(c.tenantList, nt)
	}
	for _, k := range cfg.Classes {
		cl := &class{spec: k}
		c.classes[k.Name] = cl
		c.byPriority = append(c.byPriority, cl)
	}
	slices.SortStableFunc(c.byPriority, func(a, b *class) int {
		return cmp.Compare(b.spec.Priority, a.spec.Priority)
	})
	return c, nil
}

// Admit decides one request: a Ticket when it may run, or the error that says why not. It
// blocks only while the request waits in its class queue, and no longer than ctx allows; the
// router sets ctx's deadline to the class deadline.
//
// The steps, in order: draining (ErrDraining); unknown tenant or class (ErrUnknown) and a
// malformed request (ErrInvalidRequest); a ctx already ended; the tenant's concurrency
// (ErrConcurrency); its quota (a *QuotaError, ErrQuota); then a free slot, or a place in the
// class queue (ErrQueueFull when it is full). Quota is paid before queueing and given back if
// the request is shed, abandoned or drained rather than granted.
func (c *Controller) Admit(ctx context.Context, r Request) (*Ticket, error) {
	t, w, err := c.admit(ctx, r)
	if w == nil {
		return t, err
	}
	select {
	case <-w.ready:
		return w.ticket, w.err
	case <-ctx.Done():
		return nil, c.abandon(ctx, w)
	}
}

// admit runs every step that does not wait. It returns a ticket, or an error, or the waiter to
// wait on.
func (c *Controller) admit(ctx context.Context, r Request) (*Ticket, *waiter, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.draining {
		return nil, nil, ErrDraining
	}
	t, ok := c.tenants[r.Tenant]
	if !ok {
		return nil, nil, fmt.Errorf("%w: tenant %q", ErrUnknown, r.Tenant)
	}
	k, ok := c.classes[r.Class]
	if !ok {
		return nil, nil, fmt.Errorf("%w: class %q", ErrUnknown, r.Class)
	}
	if r.Tokens < 0 {
		return nil, nil, fmt.Errorf("%w: Tokens is %d, want at least 0", ErrInvalidRequest, r.Tokens)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, ctxError(err) // a request already out of time takes no quota and no slot
	}
	if t.outstanding() >= t.spec.MaxConcurrency {
		return nil, nil, fmt.Errorf("%w: tenant %q has %d of %s", ErrConcurrency, r.Tenant,
			t.outstanding(), c.partLocked(t.spec.MaxConcurrency, c.declaredConcurrencyLocked(t)))
	}
	h, err := t.reserve(c.now(), r.Tokens)
	if err != nil {
		return nil, nil, err
	}
	// The tenant is active (headroom.go) once it asks for work within its limits; requests
	// refused for its own limits hold nothing back from the others.
	t.lastSeen = c.now()
	// After dispatching, every waiter left may not take a free slot (headroom.go), so a free
	// slot this tenant may take overtakes only waiters held back from it, of any priority.
	c.dispatchLocked()
	if c.mayTakeLocked(t) {
		return c.grantLocked(t, 0), nil, nil
	}
	if err := c.makeRoomLocked(k, t); err != nil {
		h.cancel()
		return nil, nil, err
	}
	w := c.enqueueLocked(t, k, h)
	c.armLapseLocked() // the new waiter may be held back from a free slot (headroom.go)
	return nil, w, nil
}

// abandon settles a waiter whose ctx ended. The slot may have been granted, or the waiter
// drained, at the same moment; under mu exactly one of those holds, and a granted slot is passed
// on rather than leaked.
func (c *Controller) abandon(ctx context.Context, w *waiter) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case w.err != nil:
		return w.err // drained first; Drain gave the quota back
	case w.ticket != nil:
		c.releaseLocked(w.ticket)
	default:
		c.dequeueLocked(w)
	}
	w.hold.cancel()
	return ctxError(ctx.Err())
}

// ctxError maps a context's error to admission's: a passed deadline is ErrDeadline (and still
// matches context.DeadlineExceeded); a cancellation is returned as it is.
func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrDeadline, err)
	}
	return err
}
