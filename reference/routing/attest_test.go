package routing

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/attest"
	"github.com/aruntime/arcert/reference/config"
	refworker "github.com/aruntime/arcert/reference/worker"
)

// startAttestingWorker runs a real reference worker whose simulated device is in
// confidential-computing mode when cc is set.
func startAttestingWorker(t *testing.T, id string, cc bool) string {
	t.Helper()
	srv, err := refworker.New(refworker.Options{
		Worker: config.Worker{
			ID: id, Region: "eu-west", Pool: "gpu", Models: []string{"m"},
			Device: config.DeviceSpec{Name: "sim", MemoryBytes: 1 << 30, Utilization: 0.9, Backend: config.DeviceSim, Confidential: cc},
			Engine: config.EngineSpec{MaxBatch: 2, MaxWaiting: 8, BlockSize: 4, PrefixCacheBlocks: 64},
		},
		Models:  []config.Model{{Name: "m", ArtifactDigest: "sha256:m", WeightsBytes: 1 << 20, KVBytesPerToken: 1024}},
		Runtime: config.Runtime{Version: "1.0"}, Token: testToken, Logger: discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serveOn(t, srv.Register, func(ctx context.Context, lis net.Listener) error { return srv.Serve(ctx, lis) })
	return addr
}

// TestOnlyAVerifiedFreshAttestationCounts runs an attesting and a plain worker: only the first
// counts as attested, the digest it was trusted on can be looked up, and a stale or foreign-signed
// report takes it out until the device is cleared.
func TestOnlyAVerifiedFreshAttestationCounts(t *testing.T) {
	pol := attest.Policy{Key: attest.TestOnlyKey().Public().(ed25519.PublicKey), MaxAge: 2 * time.Second, RuntimeVersion: "1.0"}
	p := newPool(t, Options{Attestation: pol, Endpoints: []Endpoint{
		{ID: "cc", Address: startAttestingWorker(t, "cc", true), Models: []string{"m"}, Region: "eu-west", Pool: "gpu"},
		{ID: "plain", Address: startAttestingWorker(t, "plain", false), Models: []string{"m"}, Region: "eu-west", Pool: "gpu"},
	}})
	run(t, p)
	cc, plain := p.Workers()[0], p.Workers()[1]
	waitFor(t, "the attesting worker attested", cc.Attested)
	waitFor(t, "the plain worker polled", func() bool { _, _, err := plain.Attestation(); return plain.Healthy() && err != nil })
	if plain.Attested() {
		t.Fatal("a worker whose device is not in CC mode counts as attested")
	}
	v, raw, _ := cc.Attestation()
	if id, got, ok := p.LookupAttestation(v.Digest); !ok || id != "cc" || got != raw {
		t.Fatalf("LookupAttestation(%s) = %q, %q, %v", v.Digest, id, got, ok)
	}
	// A worker replaying another's report is not attested: the report names the other worker.
	replay := metadata.AppendToOutgoingContext(context.Background(), MetadataReplayAttestation, raw)
	if _, err := plain.Client.DeviceEvent(replay, &arcertv1.DeviceEventRequest{Kind: "attestation_replayed"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the plain worker presenting cc's report", func() bool { _, got, _ := plain.Attestation(); return got == raw })
	if _, _, err := plain.Attestation(); !errors.Is(err, attest.ErrWorker) || plain.Attested() {
		t.Fatalf("a worker replaying another's report: %v, attested %v; want ErrWorker", err, plain.Attested())
	}
	for _, kind := range []string{"attestation_stale", "attestation_forged", "attestation_withdrawn", "attestation_mode_off"} {
		if _, err := cc.Client.DeviceEvent(context.Background(), &arcertv1.DeviceEventRequest{Kind: kind}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the "+kind+" worker no longer attested", func() bool { return !cc.Attested() })
		if !cc.Healthy() {
			t.Fatalf("%s made the worker unhealthy; it only may no longer serve confidential tenants", kind)
		}
		if _, err := cc.Client.DeviceEvent(context.Background(), &arcertv1.DeviceEventRequest{Kind: "clear"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "attested again after clearing "+kind, cc.Attested)
	}
}

// TestAPoolWithoutPolicyAttestsNoWorker: with no Verifier, even an attesting worker is not trusted.
func TestAPoolWithoutPolicyAttestsNoWorker(t *testing.T) {
	p := newPool(t, Options{Endpoints: []Endpoint{{ID: "cc", Address: startAttestingWorker(t, "cc", true), Models: []string{"m"}}}})
	run(t, p)
	w := p.Workers()[0]
	waitFor(t, "the worker polled", func() bool { _, _, err := w.Attestation(); return w.Healthy() && err != nil })
	if w.Attested() || p.Attests() {
		t.Fatal("a pool without an attestation policy trusts an attestation")
	}
}
