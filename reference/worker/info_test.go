package worker

import (
	"math"
	"testing"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

func TestVersionsReportsWhatIsApplied(t *testing.T) {
	o := testOptions("w1")
	w := serve(t, o)
	v, err := w.client.Versions(authed(t.Context(), testToken), &arcertv1.VersionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if v.GetWorker() != "w1" || v.GetRegion() != "eu-west" || v.GetPool() != "gpu-a" {
		t.Errorf("identity = %s/%s/%s", v.GetWorker(), v.GetRegion(), v.GetPool())
	}
	if v.GetRuntimeVersion() != "rt-1.2.3" || v.GetPolicyVersion() != "pol-7" || v.GetRoutingVersion() != "route-3" {
		t.Errorf("versions = %s %s %s", v.GetRuntimeVersion(), v.GetPolicyVersion(), v.GetRoutingVersion())
	}
	if len(v.GetArtifacts()) != len(o.Models) {
		t.Fatalf("artifacts = %v, want %d", v.GetArtifacts(), len(o.Models))
	}
	for i, a := range v.GetArtifacts() {
		if a.GetModel() != o.Models[i].Name || a.GetDigest() != o.Models[i].ArtifactDigest {
			t.Errorf("artifact %d = %s@%s, want %s@%s", i, a.GetModel(), a.GetDigest(), o.Models[i].Name, o.Models[i].ArtifactDigest)
		}
	}
	if len(v.GetDevices()) != 1 {
		t.Fatalf("devices = %v, want 1", v.GetDevices())
	}
	d := v.GetDevices()[0]
	if d.GetUuid() != "GPU-sim-0003-0000-0000-0000-000000000003" || d.GetName() != "SimGPU-80" || !d.GetSimulated() {
		t.Errorf("device = %v", d)
	}
	if d.GetMemoryTotalBytes() != 4*gib || d.GetMemoryUsedBytes() != 2*(gib/4) {
		t.Errorf("device memory = %d used of %d, want the weights of both models of 4 GiB", d.GetMemoryUsedBytes(), d.GetMemoryTotalBytes())
	}
}

func TestHealthReportsCapacity(t *testing.T) {
	w := serve(t, testOptions("w1"))
	h, err := w.client.Health(authed(t.Context(), testToken), &arcertv1.HealthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// (0.9 * 4 GiB - 0.5 GiB of weights) / 1 KiB per token.
	wantKV := int64(math.Floor((0.9*4*gib - gib/2) / testKVPerTok))
	if h.GetWorker() != "w1" || !h.GetHealthy() || h.GetMaxBatch() != 4 || h.GetKvFreeTokens() != wantKV {
		t.Errorf("health = %v, want w1 healthy, max_batch 4, kv_free_tokens %d", h, wantKV)
	}
	if h.GetWaiting() != 0 || h.GetRunning() != 0 || h.GetReason() != "" {
		t.Errorf("idle health = %v", h)
	}
}
