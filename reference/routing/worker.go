package routing

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"

	"google.golang.org/grpc"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// errReportedUnhealthy is a worker's own healthy=false answer, kept as its
// last error so Err always explains why a worker is out of rotation.
var errReportedUnhealthy = errors.New("routing: worker reports unhealthy")

// errAnotherWorker is a Health answered by a worker other than the one the address was declared
// for: an address a worker left and another took (a container or pod restarted elsewhere, while a
// proxy or a name still points at the old address). Its answers, and the requests sent along the
// same connection, would be another worker's, in another region or pool perhaps: it stays out of
// rotation until the address answers as the declared worker again. A worker that does not say
// who it is (an empty id) is taken at its word.
var errAnotherWorker = errors.New("routing: the address answers as another worker")

// Worker is one worker as the pool sees it: its client and its health and
// load as last observed. Its methods are safe for concurrent use.
type Worker struct {
	ID, Region, Pool, Address string
	Models                    []string
	// Role is the worker's role: "" (mixed), "decode" or RolePrefill.
	Role string
	// Elastic marks a worker of an autoscaled group (Endpoint.Elastic).
	Elastic bool
	// Client calls the worker with the worker credential attached.
	Client arcertv1.WorkerClient

	conn   *grpc.ClientConn
	dialer *workerDialer // conn's dialer, which closes a connection another worker answers on
	pool   *Pool
	idHash uint64
	stop   chan struct{} // closed by Remove: the worker's poller ends

	healthy     atomic.Bool
	outstanding atomic.Int64
	marks       atomic.Uint64 // MarkUnhealthy calls, so a poll begun before one cannot undo it
	last        atomic.Pointer[arcertv1.HealthResponse]
	err         atomic.Pointer[error]
	att         atomic.Pointer[attestation]
	reach       atomic.Pointer[reach] // the current reachable period, which Call binds calls to
	recent      attestRing
}

// Healthy reports whether the worker is in rotation: its last Health said
// healthy and nothing failed on it since.
func (w *Worker) Healthy() bool { return w.healthy.Load() }

// Outstanding is the number of requests leased to the worker and not done.
func (w *Worker) Outstanding() int { return int(w.outstanding.Load()) }

// batchFull reports whether the worker already has as many requests as its batch holds, so that
// one more would wait for a sequence to finish; false while its batch size is unknown.
func (w *Worker) batchFull() bool {
	n := w.Health().GetMaxBatch()
	return n > 0 && w.outstanding.Load() >= n
}

// Health returns the worker's last successful Health answer, or nil before
// the first one.
func (w *Worker) Health() *arcertv1.HealthResponse { return w.last.Load() }

// Err returns why the worker was last taken out of rotation, or nil if it
// never was.
func (w *Worker) Err() error {
	if p := w.err.Load(); p != nil {
		return *p
	}
	return nil
}

// MarkUnhealthy takes the worker out of rotation at once; the router calls
// it when a Generate fails with Unavailable or a transport error, rather
// than waiting for the next poll. The next successful poll that started
// after this call restores the worker.
func (w *Worker) MarkUnhealthy(err error) {
	w.marks.Add(1)
	w.setErr(err)
	if w.healthy.Swap(false) {
		w.pool.log.Warn("worker marked unhealthy", "worker", w.ID, "err", err)
		w.pool.signal()
	}
}

// observe records one poll: resp and err are Health's results, marks is the MarkUnhealthy count
// read before the call, and local the local address of the connection the answer came on (nil
// when unknown).
func (w *Worker) observe(resp *arcertv1.HealthResponse, err error, marks uint64, local net.Addr) {
	switch {
	case err != nil:
	case resp.GetWorker() != "" && resp.GetWorker() != w.ID:
		err = fmt.Errorf("%w: %s at %s answers as %q", errAnotherWorker, w.ID, w.Address, resp.GetWorker())
	case !resp.GetHealthy():
		err = fmt.Errorf("%w: %s", errReportedUnhealthy, resp.GetReason())
	}
	changed := false
	if resp != nil && !errors.Is(err, errAnotherWorker) { // another worker's figures are not w's
		prev := w.last.Swap(resp)
		changed = prev.GetMaxBatch() != resp.GetMaxBatch()
	}
	healthy := err == nil
	if healthy && w.marks.Load() != marks {
		return // marked unhealthy while the poll was in flight: wait for the next
	}
	if errors.Is(err, errAnotherWorker) {
		w.redial(local, err, errors.Is(w.Err(), errAnotherWorker))
	}
	if err != nil {
		w.setErr(err)
	}
	if w.healthy.Swap(healthy) != healthy {
		changed = true
		if healthy {
			w.pool.log.Info("worker healthy", "worker", w.ID, "max_batch", resp.GetMaxBatch())
		} else {
			w.pool.log.Warn("worker unhealthy", "worker", w.ID, "err", err)
		}
	}
	if changed {
		w.pool.signal()
	}
}

func (w *Worker) setErr(err error) {
	if err == nil {
		err = errors.New("routing: marked unhealthy")
	}
	w.err.Store(&err)
}

// RolePrefill is the role of a worker that only prefills prompts for decode workers.
const RolePrefill = "prefill"

// Serving reports whether the worker serves requests itself, that is, is not a prefill worker:
// only serving workers count as admission capacity and as a place to run a request.
func (w *Worker) Serving() bool { return w.Role != RolePrefill }

// UnderPressure reports whether the worker's last Health said its device is under memory
// pressure; Pick sends work elsewhere while another worker is not.
func (w *Worker) UnderPressure() bool { return w.Health().GetDevice().GetPressure() }
