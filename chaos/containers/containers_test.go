package containers_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/containers"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/deploy/images"
)

// testTimeout bounds the whole test: image build (cached after the first), deploy, faults, close.
const testTimeout = 4 * time.Minute

// needDocker skips without Docker, except in CI, where Docker is part of the machine and its
// absence is a failure.
func needDocker(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := containers.Available(ctx); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %v", err)
		}
		t.Skipf("skipping the containerized deployment: %v", err)
	}
}

// chat sends one small chat completion as the dev tenant acme and returns its outcome header.
func chat(ctx context.Context, base string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	body := `{"model":"arcert-sim-small","max_tokens":8,"messages":[{"role":"user","content":"hello from a container test"}]}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer dev-acme-key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	_ = resp.Body.Close()
	return resp.Header.Get("ARuntime-Outcome") + "/" + resp.Header.Get("ARuntime-Outcome-Reason"), nil
}

// servedInARow waits until n requests in a row complete, or fails the test after limit.
func servedInARow(t *testing.T, ctx context.Context, base string, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	row, last := 0, ""
	for row < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %d completed requests in a row within %s; last outcome %q", n, limit, last)
		}
		out, err := chat(ctx, base)
		if err != nil {
			last = err.Error()
		} else {
			last = out
		}
		if err == nil && strings.HasPrefix(out, "completed/") {
			row++
			continue
		}
		row = 0
		time.Sleep(100 * time.Millisecond)
	}
}

// notServed waits until a request is refused or fails, or fails the test after limit.
func notServed(t *testing.T, ctx context.Context, base string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		out, err := chat(ctx, base)
		if err == nil && !strings.HasPrefix(out, "completed/") {
			t.Logf("with eu-west cut: %s", out)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still served %s after %s with eu-west cut (err %v)", out, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDeployServesAndSurvivesContainerFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	needDocker(t, ctx)

	start := time.Now()
	if err := images.Build(ctx, images.Options{Log: testLog{t}}); err != nil {
		t.Fatal(err)
	}
	t.Logf("images ready in %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	d, err := containers.Deploy(ctx, containers.Options{Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = d.Close(context.Background())
		}
	})
	t.Logf("deployed in %s: %s, %d links", time.Since(start).Round(time.Millisecond), d.HTTPURL(), len(d.Engine().Links()))

	out, err := chat(ctx, d.HTTPURL())
	if err != nil || out != "completed/none" {
		t.Fatalf("first request: outcome %q, err %v", out, err)
	}

	// A link fault bites: with both eu-west links down, acme (eu-west only) is no longer served,
	// which shows the router reaches its workers through the toxiproxy container.
	down, err := d.Engine().Inject(link.RoleRegion, "eu-west", fault.Fault{Kind: fault.Down})
	if err != nil {
		t.Fatal(err)
	}
	notServed(t, ctx, d.HTTPURL(), 15*time.Second)
	if err := down.Heal(); err != nil {
		t.Fatal(err)
	}
	// The proxies count what they carried (toxiproxy runs with -proxy-metrics). Toxiproxy adds a
	// connection's bytes when the connection ends, which the fault did to the router's.
	if n, err := d.Engine().Bytes(ctx, link.RoleRegion, "eu-west"); err != nil || n == 0 {
		t.Fatalf("bytes through eu-west: %d, %v", n, err)
	}
	servedInARow(t, ctx, d.HTTPURL(), 3, 15*time.Second)

	// Worker loss: eu-west keeps serving on worker-a; worker-b comes back and serves again.
	if got := d.Parts(containers.RoleWorker); len(got) != 3 {
		t.Fatalf("worker parts %v, want 3", got)
	}
	if err := d.Kill(ctx, containers.RoleWorker, "worker-b"); err != nil {
		t.Fatal(err)
	}
	if err := d.Residue(ctx); !errors.Is(err, containers.ErrResidue) || !strings.Contains(err.Error(), "worker-b") {
		t.Fatalf("residue with worker-b killed: %v", err)
	}
	servedInARow(t, ctx, d.HTTPURL(), 5, 15*time.Second)
	if err := d.Restart(ctx, containers.RoleWorker, "worker-b"); err != nil {
		t.Fatal(err)
	}
	servedInARow(t, ctx, d.HTTPURL(), 5, 15*time.Second)

	// Pause: the container is frozen, not gone; after Unpause the router finds it healthy again.
	if err := d.Pause(ctx, containers.RoleWorker, "worker-b"); err != nil {
		t.Fatal(err)
	}
	if err := d.Residue(ctx); err == nil || !strings.Contains(err.Error(), "worker-b is paused") {
		t.Fatalf("residue with worker-b paused: %v", err)
	}
	if err := d.Unpause(ctx, containers.RoleWorker, "worker-b"); err != nil {
		t.Fatal(err)
	}
	if err := d.Restart(ctx, containers.RoleWorker, "worker-b"); err != nil { // waits until healthy
		t.Fatal(err)
	}
	servedInARow(t, ctx, d.HTTPURL(), 3, 15*time.Second)

	// Partition: worker-b off the network keeps running; back on it, the router finds it again.
	if err := d.Disconnect(ctx, containers.RoleWorker, "worker-b"); err != nil {
		t.Fatal(err)
	}
	if err := d.Residue(ctx); err == nil || !strings.Contains(err.Error(), "worker-b is off the network") {
		t.Fatalf("residue with worker-b disconnected: %v", err)
	}
	servedInARow(t, ctx, d.HTTPURL(), 3, 15*time.Second)
	if err := d.Connect(ctx, containers.RoleWorker, "worker-b"); err != nil {
		t.Fatal(err)
	}
	if err := d.Restart(ctx, containers.RoleWorker, "worker-b"); err != nil {
		t.Fatal(err)
	}

	// The router is stateless and replaceable: killed and restarted, it serves on the same endpoint.
	if err := d.Kill(ctx, containers.RoleRouter, "router"); err != nil {
		t.Fatal(err)
	}
	if err := d.Restart(ctx, containers.RoleRouter, "router"); err != nil {
		t.Fatal(err)
	}
	servedInARow(t, ctx, d.HTTPURL(), 3, 15*time.Second)

	if err := d.Residue(ctx); err != nil {
		t.Fatalf("residue after healing: %v", err)
	}
	if err := d.Engine().Residue(); err != nil {
		t.Fatalf("toxics left: %v", err)
	}
	closed = true
	if err := d.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	t.Logf("whole test %s", time.Since(start).Round(time.Millisecond))
}

// testLog sends progress lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
