package compose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/nats-io/nats.go"

	"github.com/aruntime/arcert/chaos/fault"
)

// The throwaway project of the integration test (testdata/docker-compose.yaml).
const (
	testProject = "arcert-composetest"
	testImage   = "arcert/nats:2.15.2"
	testClient  = "nats://127.0.0.1:28422"
)

var testMonitors = map[string]string{"nats-1": "http://127.0.0.1:28222", "nats-2": "http://127.0.0.1:28223", "nats-3": "http://127.0.0.1:28224"}

// upProject brings the test project up and registers its removal, or skips saying why not.
func upProject(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	docker, err := client.New(client.FromEnv)
	if err != nil {
		t.Skipf("no Docker client: %v", err)
	}
	defer func() { _ = docker.Close() }()
	if _, err := docker.Ping(ctx, client.PingOptions{}); err != nil {
		t.Skipf("Docker is not up: %v", err)
	}
	if _, err := docker.ImageInspect(ctx, testImage); err != nil {
		t.Skipf("image %s is missing (`make images` builds it): %v", testImage, err)
	}
	if _, err := exec.LookPath("docker-compose"); err != nil {
		t.Skip("docker-compose is not installed")
	}
	compose := func(args ...string) *exec.Cmd {
		return exec.Command("docker-compose", append([]string{"-p", testProject, "-f", "testdata/docker-compose.yaml"}, args...)...)
	}
	t.Cleanup(func() {
		if out, err := compose("down", "-v", "--remove-orphans", "--timeout", "2").CombinedOutput(); err != nil {
			t.Errorf("docker-compose down: %v\n%s", err, out)
		}
	})
	if out, err := compose("up", "-d").CombinedOutput(); err != nil {
		t.Fatalf("docker-compose up: %v\n%s", err, out)
	}
}

// TestComposeDeploymentFaults drives a real three-node JetStream cluster in Compose: the
// leader of an R3 stream is found, killed (another is elected while it stays down) and
// restarted; a node is paused and resumed, cut from the network and put back; Residue sees
// each fault while it lasts and nothing once each is undone.
func TestComposeDeploymentFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Compose project")
	}
	upProject(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	nodes := []string{"nats-1", "nats-2", "nats-3"}
	d, err := Open(ctx, Options{Project: testProject, Parts: map[string][]string{"state-store": nodes}, Monitor: testMonitors, Log: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Close() }()
	if got := d.Parts("state-store"); !slices.Equal(got, nodes) {
		t.Fatalf("parts: %v", got)
	}
	for _, n := range nodes { // a running part is only waited for: until its check passes
		if err := d.Restart(ctx, "state-store", n); err != nil {
			t.Fatal(err)
		}
	}
	mustClean(ctx, t, d, "after start")
	// The label's check is what Restart waited for on nats-2 and nats-3: a check that fails says so.
	if ok, state, err := d.execCheck(ctx, d.ids["nats-2"], "/natsd healthz http://127.0.0.1:1/healthz"); ok || err != nil || !strings.Contains(state, "exited 1") {
		t.Errorf("a failing check: ok=%v state=%q err=%v, want not ok, exited 1", ok, state, err)
	}
	if ok, state, err := d.execCheck(ctx, d.ids["nats-2"], "/natsd healthz"); !ok || err != nil {
		t.Errorf("nats-2's own check: ok=%v state=%q err=%v, want ok", ok, state, err)
	}

	nc, err := nats.Connect(testClient, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&nats.StreamConfig{Name: "CHAOS", Subjects: []string{"chaos.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	leader := eventually(ctx, t, "a leader of CHAOS", func() (string, error) { return d.StreamLeader(ctx, "CHAOS") })
	if !slices.Contains(nodes, leader) {
		t.Fatalf("leader %q is no part", leader)
	}

	if err := d.Kill(ctx, "state-store", leader); err != nil {
		t.Fatal(err)
	}
	mustResidue(ctx, t, d, leader+" is exited")
	next := eventually(ctx, t, "a new leader of CHAOS", func() (string, error) {
		l, err := d.StreamLeader(ctx, "CHAOS")
		if err == nil && l == leader {
			err = fmt.Errorf("%s still named the leader", l)
		}
		return l, err
	})
	t.Logf("killed leader %s; %s elected", leader, next)
	mustResidue(ctx, t, d, leader+" is exited") // Docker's restart policy did not bring it back
	if err := d.Restart(ctx, "state-store", leader); err != nil {
		t.Fatal(err)
	}
	mustClean(ctx, t, d, "after the restart")

	if err := d.Pause(ctx, "state-store", "nats-2"); err != nil {
		t.Fatal(err)
	}
	mustResidue(ctx, t, d, "nats-2 is paused")
	if err := d.Unpause(ctx, "state-store", "nats-2"); err != nil {
		t.Fatal(err)
	}
	mustClean(ctx, t, d, "after unpausing")

	if err := d.CutNetwork(ctx, "state-store", "nats-3", "nowhere"); !errors.Is(err, ErrDeployment) {
		t.Fatalf("cutting an unknown network: %v", err)
	}
	if err := d.CutNetwork(ctx, "state-store", "nats-3", "state"); err != nil {
		t.Fatal(err)
	}
	mustResidue(ctx, t, d, "nats-3 is off network "+testProject+"_state")
	if err := d.RestoreNetwork(ctx, "state-store", "nats-3", "state"); err != nil {
		t.Fatal(err)
	}
	mustClean(ctx, t, d, "after restoring the network")
	if err := d.Disconnect(ctx, "state-store", "nats-1"); err != nil {
		t.Fatal(err)
	}
	mustResidue(ctx, t, d, "nats-1 is off network")
	if err := d.Connect(ctx, "state-store", "nats-1"); err != nil {
		t.Fatal(err)
	}
	mustClean(ctx, t, d, "after reconnecting")
	// Put back with its aliases, the cluster routes to nats-3 by name again: it serves healthy.
	if err := d.Restart(ctx, "state-store", "nats-3"); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish("chaos.done", []byte("ok")); err != nil {
		t.Fatalf("publishing after every fault was undone: %v", err)
	}
}

func mustClean(ctx context.Context, t *testing.T, d *Deployment, when string) {
	t.Helper()
	if err := d.Residue(ctx); err != nil {
		t.Fatalf("residue %s: %v", when, err)
	}
}

func mustResidue(ctx context.Context, t *testing.T, d *Deployment, want string) {
	t.Helper()
	err := d.Residue(ctx)
	if !errors.Is(err, fault.ErrResidue) || !strings.Contains(err.Error(), want) {
		t.Fatalf("residue: %v; want one saying %q", err, want)
	}
}

// eventually retries f for up to 30 s, for what the cluster settles on after a fault.
func eventually(ctx context.Context, t *testing.T, what string, f func() (string, error)) string {
	t.Helper()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(250 * time.Millisecond) {
		var v string
		if v, err = f(); err == nil {
			return v
		}
	}
	t.Fatalf("no %s within 30 s: %v", what, err)
	return ""
}
