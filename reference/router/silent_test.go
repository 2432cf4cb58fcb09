package router

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"google.golang.org/grpc/status"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/routing"
)

// TestSilentWorkerCallIsLost: a call the health checker cut because its worker fell silent
// (cause routing.ErrUnreachable) is worker_lost, retried elsewhere only when nothing went out,
// as a reset connection's call is; the caller's own cancellation stays client_cancelled.
func TestSilentWorkerCallIsLost(t *testing.T) {
	r := &Router{log: slog.New(slog.DiscardHandler)}
	w := &routing.Worker{ID: "worker-a"}
	cut := func(cause error) context.Context {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		return ctx
	}
	silent := cut(fmt.Errorf("%w: worker-a: poll timed out", routing.ErrUnreachable))
	for _, tc := range []struct {
		name      string
		ctx       context.Context
		started   bool
		reason    outcome.Reason
		wantRetry bool
	}{
		{"silent before output", silent, false, outcome.ReasonWorkerLost, true},
		{"silent mid-stream", silent, true, outcome.ReasonWorkerLost, false},
		{"caller gone", cut(context.Canceled), false, outcome.ReasonClientCancelled, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := status.FromContextError(tc.ctx.Err()).Err() // what the cut Generate returns
			end, retry := r.workerFailure(tc.ctx, w, err, ending{started: tc.started})
			if end.reason != tc.reason || end.class != tc.reason.Class() || retry != tc.wantRetry {
				t.Fatalf("ended %s/%s retry=%v, want %s/%s retry=%v", end.class, end.reason, retry, tc.reason.Class(), tc.reason, tc.wantRetry)
			}
		})
	}
}
