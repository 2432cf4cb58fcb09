package suites

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
)

// defaultDeviceSettle is how long a runtime may take to act on a device event when the target
// declares no bound: a few health polls.
const defaultDeviceSettle = 5 * time.Second

// settle is the target's bound on acting on a device event.
func settle() time.Duration {
	Expect(env.Target.Devices).NotTo(BeNil(), "the target declares device features without a devices section")
	if s := env.Target.Devices.Settle; s > 0 {
		return s
	}
	return defaultDeviceSettle
}

// deviceEvent posts ev to worker's device hook as the operator and returns the worker's state.
func deviceEvent(ctx context.Context, worker string, ev discovery.DeviceEvent) discovery.DeviceEventResult {
	settle()
	Expect(env.Target.Operator).NotTo(BeNil(), "the device hook needs the target's operator credential")
	raw, err := json.Marshal(ev)
	Expect(err).NotTo(HaveOccurred())
	path := strings.ReplaceAll(env.Target.Devices.Hook, "{worker}", worker)
	var out discovery.DeviceEventResult
	status, hdr, err := env.HTTP.JSON(ctx, http.MethodPost, path, env.Target.Operator.Key, raw, nil, &out)
	Expect(err).NotTo(HaveOccurred(), "POST %s", path)
	Expect(hdr.Get(outcome.HeaderOutcome)).NotTo(BeEmpty(), "device hook response without an outcome")
	Expect(status).To(Equal(http.StatusOK), "device event %s on %s", ev.Kind, worker)
	return out
}

// versionsNow is /v1/aruntime/versions as tenant A sees it.
func versionsNow(ctx context.Context) []discovery.WorkerVersions {
	var v discovery.Versions
	Expect(getJSON(ctx, discovery.PathVersions, tenantA().Key, &v)).To(Equal(http.StatusOK))
	return v.Workers
}

// workerIDs are every worker's id.
func workerIDs(ctx context.Context) []string {
	var ids []string
	for _, w := range versionsNow(ctx) {
		ids = append(ids, w.Worker)
	}
	Expect(ids).NotTo(BeEmpty(), "/v1/aruntime/versions lists no worker")
	return ids
}

// clearDevices resets every worker's device and waits until all are healthy without pressure:
// the cleanup of every device spec, run even when the spec fails.
func clearDevices(ctx context.Context) {
	for _, id := range workerIDs(ctx) {
		deviceEvent(ctx, id, discovery.DeviceEvent{Kind: discovery.DeviceClear})
	}
	var bad []string
	ok := opsPoll(ctx, settle(), 50*time.Millisecond, func() bool { bad = troubled(ctx); return len(bad) == 0 })
	opsCheck(ok, "within %s of the device reset, workers %s are still unhealthy, under pressure or faulted", settle(), strings.Join(bad, ", "))
}

// devicesSteady is the steady-state hypothesis of a device spec: every worker healthy, with no
// pressure and no fault, within the declared settle time. A spec that follows another one's fault
// (a region outage, a worker replaced) waits here for the runtime to recover instead of blaming
// the device policy for it; if it never does, the spec is INVALID, not failed.
func devicesSteady(ctx context.Context) bool {
	var bad []string
	if opsPoll(ctx, settle(), 50*time.Millisecond, func() bool { bad = troubled(ctx); return len(bad) == 0 }) {
		return true
	}
	invalid("the steady state did not hold before the device event: within %s, workers %s were still unhealthy, under pressure or faulted", settle(), strings.Join(bad, ", "))
	return false
}

// troubled lists the workers that are unhealthy, under pressure or faulted, with why.
func troubled(ctx context.Context) []string {
	var out []string
	for _, w := range versionsNow(ctx) {
		bad := !w.Healthy
		for _, d := range w.Devices {
			bad = bad || d.Pressure || d.Fault != ""
		}
		if bad {
			out = append(out, w.Worker)
		}
	}
	return out
}

// underPressure lists the workers whose devices report pressure.
func underPressure(ctx context.Context) []string {
	var out []string
	for _, w := range versionsNow(ctx) {
		if slices.ContainsFunc(w.Devices, func(d discovery.Device) bool { return d.Pressure }) {
			out = append(out, w.Worker)
		}
	}
	return out
}
