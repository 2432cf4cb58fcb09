package routing

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrUnreachable is the cause (context.Cause) of a call context that Call bound to a worker the
// health checker then found silent: the router reads it to end the call as worker_lost, retried
// elsewhere when no output went out, rather than as the caller's cancellation.
var ErrUnreachable = errors.New("routing: worker stopped answering its health checks")

// reach is one period in which a worker is deemed reachable. Its ctx is cancelled, with a cause
// wrapping ErrUnreachable, when the health checker finds the worker silent; a successful poll
// afterwards starts a new period. Calls bind to the period current when they start.
type reach struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func newReach() *reach {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &reach{ctx: ctx, cancel: cancel}
}

// Call returns a context for one call to w: it is ctx, also cancelled as soon as the health
// checker finds w silent (see silent), with a cause matching ErrUnreachable. A worker cut off
// without a reset (its packets dropped) never fails its calls on its own: they would hang until
// their deadline, holding their admission slots long after w left the rotation. Bound this way
// they end the moment w is declared down, as if the connection had been reset. A call started
// while w is already declared down is cancelled at once. release must be called when the call
// ends; it frees what Call registered on w.
//
// The cost is one cancellable context and one callback registered on w's current period (under
// that period's own lock, never a pool-wide one).
func (w *Worker) Call(ctx context.Context) (context.Context, context.CancelFunc) {
	r := w.reach.Load()
	cctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(r.ctx, func() { cancel(context.Cause(r.ctx)) })
	return cctx, func() {
		stop()
		cancel(context.Canceled)
	}
}

// silent reports whether a failed health poll means the worker did not answer at all (the poll
// timed out or found no connection), as opposed to answering with an error: only silence says
// that the worker's other calls on the same connection are stuck too.
func silent(err error) bool {
	switch status.Code(err) {
	case codes.DeadlineExceeded, codes.Unavailable:
		return true
	}
	return false
}

// unreachable ends w's current reachable period: every call bound to it by Call is cancelled
// with a cause wrapping ErrUnreachable and err. It is idempotent; only the poller calls it.
func (w *Worker) unreachable(err error) {
	r := w.reach.Load()
	if r.ctx.Err() != nil {
		return
	}
	r.cancel(fmt.Errorf("%w: worker %s: %w", ErrUnreachable, w.ID, err))
	w.pool.log.Warn("worker silent: its calls in flight are cancelled", "worker", w.ID, "outstanding", w.Outstanding(), "err", err)
}

// reachable starts a new reachable period once the worker answers again, so calls made from now
// on are bound to it, not to the period already cancelled.
func (w *Worker) reachable() {
	if r := w.reach.Load(); r.ctx.Err() != nil {
		w.reach.CompareAndSwap(r, newReach())
	}
}
