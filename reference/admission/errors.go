package admission

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors returned by the admission controller. Each maps to a different outcome of the
// contract (DESIGN.md §1), so the router matches them with errors.Is and they are never merged:
// quota and concurrency are `rejected`, a full queue and draining are `shed`, a passed deadline is
// `timed_out`.
var (
	// ErrInvalidConfig means New was given a malformed Config; the wrapping error names the field.
	ErrInvalidConfig = errors.New("admission: invalid config")
	// ErrInvalidRequest means a Request is malformed (negative Tokens); the wrapping error says how.
	ErrInvalidRequest = errors.New("admission: invalid request")
	// ErrUnknown means the request names a tenant or class the configuration does not declare;
	// the wrapping error names which.
	ErrUnknown = errors.New("admission: unknown tenant or class")
	// ErrConcurrency means the tenant already holds or awaits MaxConcurrency admissions, so one
	// tenant cannot fill the shared slots and queues.
	ErrConcurrency = errors.New("admission: tenant concurrency limit reached")
	// ErrQuota means the tenant's request or token bucket cannot pay for the request now. The
	// error is a *QuotaError that says which bucket and when to retry.
	ErrQuota = errors.New("admission: tenant quota exceeded")
	// ErrQueueFull means no slot was free and the class queue was at QueueCapacity: the request is
	// shed at once, before any work, rather than growing a queue without bound.
	ErrQueueFull = errors.New("admission: class queue full")
	// ErrDeadline means the request's context deadline (the class deadline) passed while it
	// waited; the error also matches context.DeadlineExceeded.
	ErrDeadline = errors.New("admission: deadline passed while queued")
	// ErrDraining means the controller is draining for shutdown and admits nothing new.
	ErrDraining = errors.New("admission: draining")
)

// Quota dimensions named by QuotaError.Dimension.
const (
	// DimensionRequests is the RequestsPerMinute bucket.
	DimensionRequests = "requests"
	// DimensionTokens is the TokensPerMinute bucket.
	DimensionTokens = "tokens"
)

// QuotaError is the error of a request refused by quota. It carries what the router needs for a
// `rejected`/`quota_exceeded` response with an honest Retry-After.
type QuotaError struct {
	Tenant string
	// Dimension is DimensionRequests or DimensionTokens: the bucket that refused.
	Dimension string
	// RetryAfter is how long until the bucket could pay for the same request. Zero means never:
	// the request asks for more tokens than the bucket can ever hold, so retrying unchanged will
	// not help.
	RetryAfter time.Duration
}

// Error describes the refusal.
func (e *QuotaError) Error() string {
	if e.RetryAfter == 0 {
		return fmt.Sprintf("%v: tenant %q: %s: request exceeds the bucket size", ErrQuota, e.Tenant, e.Dimension)
	}
	return fmt.Sprintf("%v: tenant %q: %s: retry after %v", ErrQuota, e.Tenant, e.Dimension, e.RetryAfter)
}

// Unwrap makes errors.Is(err, ErrQuota) hold.
func (e *QuotaError) Unwrap() error { return ErrQuota }
