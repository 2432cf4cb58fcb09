package worker

import (
	"slices"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/worker/device"
	"github.com/aruntime/arcert/reference/worker/prefixcache"
)

// pressureOptions is testOptions with a 1 GiB threshold, m1 pinned and half the L1 kept.
func pressureOptions() Options {
	o := testOptions("w-pressure")
	o.Worker.Device.Pressure = config.Pressure{MinFreeBytes: gib}
	o.Worker.Residency = config.Residency{Evict: config.EvictLRU, Pinned: []string{"m1"}, L1KeepFraction: 0.5}
	return o
}

func TestPressureEvictsTheColdModelShrinksL1AndSheds(t *testing.T) {
	s := serve(t, pressureOptions())
	ctx := authed(t.Context(), testToken)
	// m2 is used last, so m1 is colder; m1 is pinned, so m2 is the one evicted anyway.
	for _, m := range []string{"m1", "m2"} {
		req := request("acme", "warm the models", 1)
		req.Model = m
		if _, err := generate(t.Context(), s.client, req); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := s.client.DeviceEvent(ctx, &arcertv1.DeviceEventRequest{Kind: "memory_pressure", FreeBytes: gib / 2})
	if err != nil {
		t.Fatal(err)
	}
	d := resp.GetDevice()
	if !d.GetPressure() || !slices.Equal(d.GetResidentModels(), []string{"m1"}) || d.GetL1CapacityBlocks() != 2048 {
		t.Fatalf("under pressure: %+v; want pressure, only the pinned m1 resident, L1 halved to 2048 blocks", d)
	}
	_, err = generate(t.Context(), s.client, request("acme", "shed?", 1))
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted || !hasPressureInfo(st) {
		t.Fatalf("work under pressure ended %v, want ResourceExhausted with a device_pressure ErrorInfo", err)
	}
	if _, err := s.client.DeviceEvent(ctx, &arcertv1.DeviceEventRequest{Kind: "clear"}); err != nil {
		t.Fatal(err)
	}
	h, err := s.client.Health(ctx, &arcertv1.HealthRequest{})
	if err != nil || h.GetDevice().GetPressure() || h.GetDevice().GetL1CapacityBlocks() != 4096 {
		t.Fatalf("after clearing: %+v, %v; want no pressure and the whole L1 back", h.GetDevice(), err)
	}
	req := request("acme", "m2 loads again", 1)
	req.Model = "m2"
	if _, err := generate(t.Context(), s.client, req); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.client.Versions(ctx, &arcertv1.VersionsRequest{}); !slices.Contains(v.GetResidentModels(), "m2") {
		t.Fatalf("m2 not loaded again after the pressure: %v", v.GetResidentModels())
	}
}

func TestXIDDrainsTheWorker(t *testing.T) {
	s := serve(t, testOptions("w-xid"))
	ctx := authed(t.Context(), testToken)
	resp, err := s.client.DeviceEvent(ctx, &arcertv1.DeviceEventRequest{Kind: "xid", Xid: 79})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetHealthy() || resp.GetDevice().GetFault() != "xid 79" {
		t.Fatalf("after xid 79: healthy %v fault %q", resp.GetHealthy(), resp.GetDevice().GetFault())
	}
	h, err := s.client.Health(ctx, &arcertv1.HealthRequest{})
	if err != nil || h.GetHealthy() || h.GetReason() != "device fault: xid 79" {
		t.Fatalf("health after the fault: %+v, %v", h, err)
	}
	if _, err := generate(t.Context(), s.client, request("acme", "refused?", 1)); status.Code(err) != codes.Unavailable {
		t.Fatalf("new work on a faulted device ended %v, want Unavailable", err)
	}
	if _, err := s.client.DeviceEvent(ctx, &arcertv1.DeviceEventRequest{Kind: "clear"}); err != nil {
		t.Fatal(err)
	}
	if _, err := generate(t.Context(), s.client, request("acme", "served after the reset", 1)); err != nil {
		t.Fatalf("not served after the device reset: %v", err)
	}
}

func hasPressureInfo(st *status.Status) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == string(outcome.ReasonDevicePressure) {
			return true
		}
	}
	return false
}

// The policy's order: when evicting a cold model brings free memory back over the threshold, the
// worker neither shrinks its L1 nor sheds; only what eviction cannot fix is pressure.
func TestEvictionFirstThenShrinkAndShed(t *testing.T) {
	o := testOptions("w-order")
	o.Worker.Residency = config.Residency{Evict: config.EvictLRU, Pinned: []string{"m1"}, L1KeepFraction: 0.5}
	dev := device.NewSim(0, "sim", 4*gib)
	l1 := prefixcache.New(4096)
	// Both models' weights (a quarter GiB each) leave 3.5 GiB free; the threshold sits just above.
	o.Worker.Device.Pressure.MinFreeBytes = 4*gib - gib/2 + 1
	r, err := newResidency(dev, o, l1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.check() {
		t.Fatal("under pressure although evicting the cold m2 frees enough")
	}
	st := r.status("")
	if !slices.Equal(st.GetResidentModels(), []string{"m1"}) || st.GetL1CapacityBlocks() != 4096 || r.admit("m1") != nil {
		t.Fatalf("after eviction: %+v; want only m1 resident, the whole L1 and work admitted", st)
	}
	dev.SimulateFree(gib, true) // eviction can no longer help
	if !r.check() {
		t.Fatal("not under pressure with 1 GiB free and nothing left to evict")
	}
	if st := r.status(""); st.GetL1CapacityBlocks() != 2048 || r.admit("m1") == nil {
		t.Fatalf("under pressure: %+v; want the L1 halved and work shed", st)
	}
}
