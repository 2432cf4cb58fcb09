package admission

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// maxBurst caps a bucket's burst so that an absurd rate or window cannot overflow int.
const maxBurst = math.MaxInt32

// QuotaStatus is one tenant's declared limits and what is left of them now: the body of
// GET /v1/aruntime/quotas, so a tenant can see the limits it is held to.
type QuotaStatus struct {
	RequestsPerMinute int
	TokensPerMinute   int
	MaxConcurrency    int
	// RequestsRemaining and TokensRemaining are the tokens in each bucket now: what the tenant
	// may spend at once before it is refused.
	RequestsRemaining float64
	TokensRemaining   float64
	// RequestsBurst and TokensBurst are each bucket's size: the most the tenant may spend at once
	// after a pause, which Remaining never exceeds (a second's worth of the per-minute quota by
	// default, see Config.BurstWindow).
	RequestsBurst int
	TokensBurst   int
	// RequestsFullIn and TokensFullIn are how long each bucket takes, at the declared rate, to
	// refill to its burst if the tenant spends nothing more: zero when it is full.
	RequestsFullIn time.Duration
	TokensFullIn   time.Duration
	// MaxConcurrencyHere is the concurrency this controller enforces: MaxConcurrency, or its
	// part of it when the routers split the limits. RequestsBurst, TokensBurst, the Remaining and
	// FullIn figures are likewise this controller's, while the per-minute rates and
	// MaxConcurrency are the declared ones.
	MaxConcurrencyHere int
	// InFlight counts the tenant's tickets; Queued its waiters. Both count against
	// MaxConcurrencyHere.
	InFlight int
	Queued   int
}

// tenant is one tenant's buckets and counters. The limiters lock themselves; the counters are
// guarded by Controller.mu.
type tenant struct {
	spec     TenantSpec
	requests *rate.Limiter // RequestsPerMinute
	tokens   *rate.Limiter // TokensPerMinute
	inFlight int           // tickets held
	queued   int           // waiters in a class queue
	lastSeen time.Time     // its last request's arrival, for headroom.go's activity
}

func newTenant(spec TenantSpec, window time.Duration) *tenant {
	return &tenant{
		spec:     spec,
		requests: bucket(spec.RequestsPerMinute, window),
		tokens:   bucket(spec.TokensPerMinute, window),
	}
}

// bucket is a token bucket that refills at perMinute and holds window's worth of it (at least
// one), starting full.
func bucket(perMinute int, window time.Duration) *rate.Limiter {
	perSecond := float64(perMinute) / 60
	burst := math.Min(math.Floor(perSecond*window.Seconds()), maxBurst)
	return rate.NewLimiter(rate.Limit(perSecond), max(1, int(burst)))
}

// outstanding is what counts against MaxConcurrency: admissions running or waiting. Counting the
// waiters keeps one tenant from filling the shared queues beyond its own concurrency, and means a
// granted waiter never takes the tenant over its limit.
func (t *tenant) outstanding() int { return t.inFlight + t.queued }

// hold is the quota a request has paid: one reservation on each bucket, both made at the same
// instant and neither delayed.
type hold struct {
	at       time.Time
	requests *rate.Reservation
	tokens   *rate.Reservation
}

// reserve takes one request and n tokens from the tenant's buckets at now, or takes neither and
// returns a *QuotaError. A reservation that would have to wait is refused rather than waited for:
// quota is a rejection, not a queue.
func (t *tenant) reserve(now time.Time, n int) (*hold, error) {
	h := &hold{at: now, requests: t.requests.ReserveN(now, 1), tokens: t.tokens.ReserveN(now, n)}
	reqWait, tokWait := h.requests.DelayFrom(now), h.tokens.DelayFrom(now)
	if reqWait == 0 && tokWait == 0 {
		return h, nil
	}
	h.cancel()
	qe := &QuotaError{Tenant: t.spec.Name}
	switch {
	case !h.requests.OK():
		qe.Dimension = DimensionRequests
	case !h.tokens.OK():
		qe.Dimension = DimensionTokens
	case tokWait > reqWait:
		qe.Dimension, qe.RetryAfter = DimensionTokens, tokWait
	default:
		qe.Dimension, qe.RetryAfter = DimensionRequests, reqWait
	}
	return nil, qe
}

// cancel gives back the quota of work that will not run, so refused or abandoned work does not
// spend the tenant's allowance.
//
// It cancels as of the reservation's own instant, not the current time, on purpose:
// rate.Reservation.CancelAt restores nothing once the reservation's act time has passed, and an
// admitted reservation acts at once, so cancelling at "now" after any wait in a queue would be a
// no-op. Cancelling as of the reservation instant lets the library reverse it while accounting for
// whatever the tenant reserved since: the refund is exact when nothing else was reserved in
// between and otherwise smaller, never more than was taken, so the declared rate still holds.
func (h *hold) cancel() {
	h.requests.CancelAt(h.at)
	h.tokens.CancelAt(h.at)
}

// Quota returns the declared limits of tenant and what is left of them now; false if the tenant
// is unknown.
func (c *Controller) Quota(tenantName string) (QuotaStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tenants[tenantName]
	if !ok {
		return QuotaStatus{}, false
	}
	now := c.now()
	reqs, toks := t.requests.TokensAt(now), t.tokens.TokensAt(now)
	return QuotaStatus{
		RequestsPerMinute:  t.spec.RequestsPerMinute,
		TokensPerMinute:    t.spec.TokensPerMinute,
		MaxConcurrency:     c.declaredConcurrencyLocked(t),
		MaxConcurrencyHere: t.spec.MaxConcurrency,
		RequestsRemaining:  reqs,
		TokensRemaining:    toks,
		RequestsBurst:      t.requests.Burst(),
		TokensBurst:        t.tokens.Burst(),
		RequestsFullIn:     fullIn(t.requests, reqs),
		TokensFullIn:       fullIn(t.tokens, toks),
		InFlight:           t.inFlight,
		Queued:             t.queued,
	}, true
}

// fullIn is how long l, holding tokens now, takes to refill to its burst at its rate.
func fullIn(l *rate.Limiter, tokens float64) time.Duration {
	missing := float64(l.Burst()) - tokens
	if missing <= 0 || l.Limit() <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(missing / float64(l.Limit()) * float64(time.Second)))
}
