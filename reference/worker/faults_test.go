package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/worker/device"
)

// hasFaultInfo reports the device_fault ErrorInfo the router retries on.
func hasFaultInfo(st *status.Status) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == ReasonDeviceFault {
			return true
		}
	}
	return false
}

func TestApplicationXIDsDoNotDrain(t *testing.T) {
	s := serve(t, testOptions("w-app-xid"))
	ctx := authed(t.Context(), testToken)
	resp, err := s.client.DeviceEvent(ctx, &arcertv1.DeviceEventRequest{Kind: "xid", Xid: 13})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.GetHealthy() || resp.GetDevice().GetFault() != "" {
		t.Fatalf("after xid 13 (an application fault): healthy %v fault %q; want still healthy", resp.GetHealthy(), resp.GetDevice().GetFault())
	}
	resp, err = s.client.DeviceEvent(ctx, &arcertv1.DeviceEventRequest{Kind: "xid", Xid: 79})
	if err != nil || resp.GetHealthy() {
		t.Fatalf("after xid 79: %+v, %v; want drained", resp, err)
	}
	_, err = generate(t.Context(), s.client, request("acme", "refused?", 1))
	if st := status.Convert(err); st.Code() != codes.Unavailable || !hasFaultInfo(st) {
		t.Fatalf("new work on a faulted device ended %v, want Unavailable with a device_fault ErrorInfo", err)
	}
}

func TestLostDeviceEventsDrain(t *testing.T) {
	s := serve(t, testOptions("w-lost-events"))
	s.srv.onDeviceEvent(device.Event{Kind: device.EventWatchLost, Device: "GPU-x", Detail: "nvml event wait: GPU is lost"})
	h, err := s.client.Health(authed(t.Context(), testToken), &arcertv1.HealthRequest{})
	if err != nil || h.GetHealthy() {
		t.Fatalf("health after the event source was lost: %+v, %v; want unhealthy", h, err)
	}
}

// A call cut during the L2 promote reaches Submit with a cancelled context; it must still end as
// a device fault, which the router retries, not as the caller's cancellation.
func TestACutCallEndsAsADeviceFaultWhateverItWasDoing(t *testing.T) {
	s := &Server{id: "w-cut", log: slog.Default()}
	ctx, cut := context.WithCancelCause(t.Context())
	cut(fmt.Errorf("%w: xid 79", errDeviceFault))
	for _, err := range []error{context.Canceled, fmt.Errorf("engine: %w", context.Canceled), fmt.Errorf("engine stream ended")} {
		st := status.Convert(s.failCut(ctx, request("acme", "cut", 1), err))
		if st.Code() != codes.Unavailable || !hasFaultInfo(st) {
			t.Errorf("cut call failing with %v ended %v, want Unavailable with a device_fault ErrorInfo", err, st)
		}
	}
	if st := status.Convert(s.failCut(t.Context(), request("acme", "not cut", 1), context.Canceled)); st.Code() != codes.Canceled {
		t.Errorf("an uncut cancelled call ended %v, want Canceled", st)
	}
}

// A call still in prefill when the device faults has sent nothing, and must still have sent
// nothing when it ends: the token the interrupted step computes is not sent, so the router can
// move the call to another worker rather than end it mid-stream.
func TestACallCutInPrefillSendsNoToken(t *testing.T) {
	o := testOptions("w-cut-prefill")
	o.Worker.Engine.PrefillPerToken = time.Millisecond // a 200-token prompt prefills for 200 ms
	s := serve(t, o)
	type outcome struct {
		r   result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		r, err := generate(t.Context(), s.client, request("acme", strings.Repeat("word ", 200), 4))
		done <- outcome{r, err}
	}()
	for deadline := time.Now().Add(testTimeout); ; { // until the call is in its prefill step
		h, err := s.client.Health(authed(t.Context(), testToken), &arcertv1.HealthRequest{})
		if err == nil && h.GetRunning() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the call never started running: %+v, %v", h, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	resp, err := s.client.DeviceEvent(authed(t.Context(), testToken), &arcertv1.DeviceEventRequest{Kind: "xid", Xid: 79})
	if err != nil || resp.GetCutSequences() != 1 {
		t.Fatalf("xid during the prefill: %+v, %v; want one call cut", resp, err)
	}
	got := <-done
	if st := status.Convert(got.err); st.Code() != codes.Unavailable || !hasFaultInfo(st) {
		t.Fatalf("the cut call ended %v, want Unavailable with a device_fault ErrorInfo", got.err)
	}
	if len(got.r.texts) != 0 {
		t.Fatalf("the cut call sent %d tokens after the fault: %q", len(got.r.texts), got.r.text())
	}
}
