package worker

import (
	"context"
	"testing"
	"time"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/worker/prefixcache"
)

// slowL2 delays every Put, so a demotion still in flight when the device hook answers shows.
type slowL2 struct {
	L2Client
	delay time.Duration
}

func (s slowL2) Put(ctx context.Context, tenant string, keys []prefixcache.Key) error {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.L2Client.Put(ctx, tenant, keys)
}

// The device hook answers memory pressure only once what the shrunk L1 evicted is in the shared
// tier: the harness repeats a prompt right after the hook and expects it served from there (TEN-6's
// positive control), which raced the demoting goroutine on a busy machine.
func TestPressureHookAnswersAfterTheShrinkIsDemoted(t *testing.T) {
	_, l2 := serveCache(t)
	o := tieredOptions(slowL2{L2Client: l2, delay: 300 * time.Millisecond})
	o.Worker.Device.Pressure = config.Pressure{MinFreeBytes: gib}
	o.Worker.Residency = config.Residency{Evict: config.EvictLRU, Pinned: []string{"m1"}, L1KeepFraction: 0.5}
	w := serve(t, o)
	cachedBy(t, w, "acme", prompt('a', tinyL1Blocks*4)) // fills the L1's 8 blocks

	resp, err := w.client.DeviceEvent(authed(t.Context(), testToken), &arcertv1.DeviceEventRequest{Kind: "memory_pressure", FreeBytes: gib / 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetDevice().GetL1CapacityBlocks(); got != tinyL1Blocks/2 {
		t.Fatalf("L1 under pressure has %d blocks, want %d", got, tinyL1Blocks/2)
	}
	if ts := w.srv.TierStats(); ts.Demoted != tinyL1Blocks/2 || ts.DemoteFailed != 0 {
		t.Fatalf("when the hook answered: %+v, want the %d evicted blocks demoted", ts, tinyL1Blocks/2)
	}
}
