package router

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/fallback"
	"github.com/aruntime/arcert/reference/routing"
)

// prefill sends a long prompt through a prefill worker of the decision's region first, so the
// decode worker continues from the KV it left in the shared cache tier instead of stalling its
// running streams for the whole prefill. It is best effort: without a prefill worker, or when it
// fails, the decode worker prefills the prompt itself, slower but correct.
func (r *Router) prefill(ctx context.Context, j job, d fallback.Decision, affinity uint64) {
	id, err := r.pool.PrefillFor(ctx, d.Place.Region, affinity, generateRequest(j, d.Place.Model))
	if err != nil && !errors.Is(err, routing.ErrNoPrefill) {
		r.log.Warn("prefill failed; the decode worker prefills", "request_id", j.id, "prefill_worker", id, "err", err)
	}
}

// devicePressure reports a worker's refusal for device memory pressure: ResourceExhausted with
// an ErrorInfo whose reason is device_pressure.
func devicePressure(st *status.Status) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == string(outcome.ReasonDevicePressure) {
			return true
		}
	}
	return false
}

// deviceFaultReason is the ErrorInfo reason a worker gives a call its device fault cut or refused
// (reference/worker.ReasonDeviceFault; the router does not import the worker).
const deviceFaultReason = "device_fault"

// deviceFault reports a call ended by the worker's device fault: whatever the call was doing when
// it was cut, the worker is lost to it, so it is retried elsewhere or ends worker_lost.
func deviceFault(st *status.Status) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == deviceFaultReason {
			return true
		}
	}
	return false
}
