package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/outcomehttp"
	"github.com/aruntime/arcert/reference/worker"
)

// workerHandle stops one worker instance and tells when it has stopped.
type workerHandle struct {
	stop func()
	done <-chan struct{}
	// lis is the worker's listener; closing it kills the worker (see KillWorker).
	lis    net.Listener
	killed atomic.Bool
	// srv is the instance, for what it reports about itself (CredentialsSeen).
	srv *worker.Server
	// forget drops the instance's per-worker metric series, for a worker stopped for good.
	forget func()
}

// ErrNoWorker means a replacement named a worker that does not run here.
var ErrNoWorker = errors.New("runtime: no such worker here")

// ReplaceWorker stops worker id (in-flight work drains as at shutdown) and starts a new instance
// on the same address. The new instance knows nothing of the old one: it verifies its pinned
// artifacts and follows the control plane from scratch, which is what makes workers replaceable.
func (rt *Runtime) ReplaceWorker(ctx context.Context, id string) error {
	rt.replaceMu.Lock() // one replacement at a time: two for one worker would clash on its port
	defer rt.replaceMu.Unlock()
	rt.workersMu.Lock()
	h, ok := rt.workers[id]
	rt.workersMu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoWorker, id)
	}
	h.stop() // after a kill this still ends the instance's control-plane watch
	select {
	case <-h.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := rt.startWorker(rt.runCtx, id); err != nil {
		return fmt.Errorf("replacing worker %s: %w", id, err)
	}
	rt.log.Info("worker replaced", "worker", id)
	return nil
}

// KillWorker takes worker id away abruptly, as a crashed process or a lost host would: its
// listener closes, so its server stops at once and every live stream breaks with no drain.
// ReplaceWorker brings it back. The harness's node faults use it in the embedded runtime.
func (rt *Runtime) KillWorker(ctx context.Context, id string) error {
	rt.workersMu.Lock()
	h, ok := rt.workers[id]
	rt.workersMu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoWorker, id)
	}
	if h.killed.Swap(true) {
		return nil
	}
	_ = h.lis.Close()
	select {
	case <-h.done:
		h.stop() // the instance's control-plane watch and pulls end with it, as with its process
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WorkerKilled reports whether worker id was killed and not yet replaced.
func (rt *Runtime) WorkerKilled(id string) bool {
	rt.workersMu.Lock()
	defer rt.workersMu.Unlock()
	h, ok := rt.workers[id]
	return ok && h.killed.Load()
}

// replaceHandler serves POST /v1/control/workers/{id}/replace for the operator only.
func (rt *Runtime) replaceHandler(dir *identity.Directory) http.HandlerFunc {
	return outcomehttp.OperatorOnly(dir, "replace workers", func(w http.ResponseWriter, req *http.Request) {
		reply := func(status int, reason outcome.Reason, body any) { outcomehttp.Reply(w, status, reason, body) }
		id := req.PathValue("id")
		switch err := rt.ReplaceWorker(req.Context(), id); {
		case errors.Is(err, ErrNoWorker):
			reply(http.StatusNotFound, outcome.ReasonNotFound, map[string]string{"error": err.Error()})
		case err != nil:
			reply(http.StatusBadGateway, outcome.ReasonInternal, map[string]string{"error": err.Error()})
		default:
			reply(http.StatusOK, outcome.ReasonNone, map[string]string{"worker": id, "status": "replaced"})
		}
	})
}
