package routing

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/aruntime/arcert/api/discovery"
	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/outcomehttp"
)

// DeviceHookPath is where the reference serves the device hook, on the router's HTTP port.
const DeviceHookPath = "/v1/control/workers/{id}/device"

// WithDeviceHook serves pool's device hook at DeviceHookPath in front of next.
func WithDeviceHook(next http.Handler, pool *Pool, dir *identity.Directory) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+DeviceHookPath, pool.DeviceHook(dir))
	mux.Handle("/", next)
	return mux
}

// deviceHookTimeout bounds one forwarded device event; an XID waits up to two seconds for the
// worker to see it through its device's event path.
const deviceHookTimeout = 5 * time.Second

// maxDeviceEventBytes bounds a device hook body; a real one is a few dozen bytes, or about a
// kilobyte with the attestation of attestation_replayed.
const maxDeviceEventBytes = 4 << 10

// MetadataReplayAttestation is the DeviceEvent request header carrying the attestation text of an
// attestation_replayed event (reference/worker spells the same string).
const MetadataReplayAttestation = "arcert-replay-attestation"

// DeviceHook serves the operator's device hook, POST .../workers/{id}/device with a
// discovery.DeviceEvent body, by forwarding the event to worker id over its gRPC link with the
// worker credential. Because it travels the router's own link, it works the same for workers in
// this process and in other processes or containers. isOperator authenticates the caller: only
// the operator may induce device faults.
func (p *Pool) DeviceHook(dir *identity.Directory) http.HandlerFunc {
	return outcomehttp.OperatorOnly(dir, "induce device events", func(w http.ResponseWriter, req *http.Request) {
		reply := func(code int, reason outcome.Reason, body any) { outcomehttp.Reply(w, code, reason, body) }
		fail := func(code int, reason outcome.Reason, msg string) {
			reply(code, reason, map[string]string{"error": msg})
		}
		var ev discovery.DeviceEvent
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxDeviceEventBytes))
		if err == nil {
			err = json.Unmarshal(body, &ev)
		}
		if err != nil {
			fail(http.StatusBadRequest, outcome.ReasonInvalidRequest, "device event body: "+err.Error())
			return
		}
		var target *Worker
		for _, wk := range p.set.Load().workers {
			if wk.ID == req.PathValue("id") {
				target = wk
			}
		}
		if target == nil {
			fail(http.StatusNotFound, outcome.ReasonNotFound, "no worker "+req.PathValue("id"))
			return
		}
		ctx, cancel := context.WithTimeout(req.Context(), deviceHookTimeout)
		defer cancel()
		if ev.Attestation != "" {
			// The worker protocol's DeviceEventRequest has no field for it: it travels as a header.
			ctx = metadata.AppendToOutgoingContext(ctx, MetadataReplayAttestation, ev.Attestation)
		}
		resp, err := target.Client.DeviceEvent(ctx, &arcertv1.DeviceEventRequest{Kind: ev.Kind, FreeBytes: ev.FreeBytes, Xid: ev.XID})
		switch st := status.Convert(err); {
		case err == nil:
		case st.Code() == codes.InvalidArgument || st.Code() == codes.FailedPrecondition:
			fail(http.StatusBadRequest, outcome.ReasonInvalidRequest, st.Message())
			return
		default:
			fail(http.StatusBadGateway, outcome.ReasonDependencyUnavailable, "worker "+target.ID+": "+st.Message())
			return
		}
		if !resp.GetHealthy() {
			target.MarkUnhealthy(errReportedUnhealthy) // out of rotation now, not at the next poll
		}
		d := resp.GetDevice()
		reply(http.StatusOK, outcome.ReasonNone, discovery.DeviceEventResult{
			Worker: resp.GetWorker(), Healthy: resp.GetHealthy(),
			Device:         discovery.Device{MemoryFreeBytes: d.GetMemoryFreeBytes(), Pressure: d.GetPressure(), Fault: d.GetFault()},
			ResidentModels: d.GetResidentModels(), L1CapacityBlocks: d.GetL1CapacityBlocks(),
			CutSequences: resp.GetCutSequences(),
		})
	})
}
