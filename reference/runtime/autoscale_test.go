package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aruntime/arcert/reference/control"
)

const scaleModel = "arcert-sim-scale"

// TestAutoscalerAddsWarmWorkersAndRemovesIdleOnes: work for the autoscaled model that waits on
// worker-s brings a second worker (recorded as a versioned control-plane decision), every request
// meanwhile is served or shed for capacity with Retry-After, and once the load stops the added
// worker is drained away.
func TestAutoscalerAddsWarmWorkersAndRemovesIdleOnes(t *testing.T) {
	cfg := devConfig(t)
	a := &cfg.Autoscale
	a.MaxWorkers, a.ScaleOutAfter, a.ScaleInAfter, a.Cooldown, a.LoadPerGB = 2, 300*time.Millisecond, 500*time.Millisecond, 100*time.Millisecond, 200*time.Millisecond
	a.Interval = 50 * time.Millisecond
	rt := startDurable(t, cfg, 30*time.Second)
	body := chat("scale me", 8)
	body["model"] = scaleModel
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	var bad atomic.Value
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				r := post(t, rt, "/v1/chat/completions", acmeKey, body, nil)
				key := r.header.Get("ARuntime-Outcome") + "/" + r.header.Get("ARuntime-Outcome-Reason")
				mu.Lock()
				outcomes[key]++
				mu.Unlock()
				switch {
				case key == "completed/none":
				case key == "shed/capacity" && r.header.Get("Retry-After") != "":
				default:
					bad.Store(fmt.Sprintf("%d %s: %s", r.status, key, r.body))
				}
			}
		})
	}
	added := func() bool { _, ok := rt.Topology().Workers["worker-s-2"]; return ok }
	waitUntil(t, 20*time.Second, "a second worker for "+scaleModel, added)
	stop()
	wg.Wait()
	if b := bad.Load(); b != nil {
		t.Fatalf("a request ended outside served or shed/capacity with Retry-After: %v (all: %v)", b, outcomes)
	}
	if outcomes["completed/none"] == 0 {
		t.Fatalf("nothing served: %v", outcomes)
	}
	waitUntil(t, 20*time.Second, "the idle added worker removed", func() bool { return !added() })
	// A resize is recorded once it is carried out, so the scale-in's record follows the removal.
	var actions []string
	waitUntil(t, 5*time.Second, "the scale-in recorded", func() bool {
		hist, err := rt.control.History(context.Background(), control.BucketAutoscale, "worker-s")
		if err != nil {
			t.Fatal(err)
		}
		actions = actions[:0]
		for _, e := range hist {
			var d control.AutoscaleDoc
			if err := json.Unmarshal(e.Value, &d); err != nil {
				t.Fatal(err)
			}
			actions = append(actions, fmt.Sprintf("%s:%d", d.Action, d.Workers))
		}
		return len(actions) >= 3
	})
	if !slices.Equal(actions, []string{"hold:1", "scale_out:2", "scale_in:1"}) {
		t.Fatalf("the control plane recorded %v, want the start, one scale-out and one scale-in", actions)
	}
	t.Logf("outcomes under load: %v", outcomes)
}

// waitUntil polls cond every 20 ms until it holds, failing after bound.
func waitUntil(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", bound, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
