// Package compose_test checks the reference deployment's script (deploy.sh, which `make deploy`
// runs) where it matters most to an operator: a deploy that fails leaves nothing of the project
// behind, neither containers nor networks nor volumes.
package compose_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aruntime/arcert/chaos/containers"
	"github.com/aruntime/arcert/deploy/images"
)

// needCompose skips without Docker or docker-compose, except in CI, where both are part of the
// machine and their absence is a failure.
func needCompose(t *testing.T, ctx context.Context) {
	t.Helper()
	err := containers.Available(ctx)
	if err == nil {
		_, err = exec.LookPath("docker-compose")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %v", err)
		}
		t.Skipf("skipping the Compose deployment: %v", err)
	}
}

// TestFailedDeployLeavesNothing deploys with a configuration every aruntime role refuses
// (durable.replicas 9, beyond JetStream's 5), so the roles crash-loop while the NATS cluster and
// toxiproxy come up, and checks that the script fails naming a service and that no container,
// network or volume of the project remains.
func TestFailedDeployLeavesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	needCompose(t, ctx)
	if err := images.Build(ctx, images.Options{}); err != nil {
		t.Fatal(err)
	}
	project := "arcert-deploy-test-" + randomHex(t)
	good, err := os.ReadFile("aruntime.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := bytes.Replace(good, []byte("  replicas: 3\n"), []byte("  replicas: 9\n"), 1)
	if bytes.Equal(broken, good) {
		t.Fatal("aruntime.yaml has no `  replicas: 3` line to break")
	}
	// The roles run as an unprivileged user, who must be able to read the file to refuse it.
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(cfg, broken, 0o644); err != nil { // #nosec G306 -- read by the containers' user
		t.Fatal(err)
	}
	script, err := filepath.Abs("deploy.sh")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "ARCERT_DEPLOY_PROJECT="+project, "ARCERT_CONFIG="+cfg, "ARCERT_DEPLOY_TIMEOUT=50",
		// Docker picks free host ports, so a deployment already up here is not disturbed.
		"ARCERT_HTTP_PORT=0", "ARCERT_GRPC_PORT=0", "ARCERT_HTTP_PORT_2=0", "ARCERT_GRPC_PORT_2=0",
		"ARCERT_PROVIDER_PORT=0", "ARCERT_TOXIPROXY_PORT=0",
		"ARCERT_NATS_MONITOR_PORT_1=0", "ARCERT_NATS_MONITOR_PORT_2=0", "ARCERT_NATS_MONITOR_PORT_3=0")
	t.Cleanup(func() {
		// #nosec G204 -- this package's own script
		down := exec.Command(script, "down")
		down.Env = env
		_ = down.Run()
	})

	start := time.Now()
	// #nosec G204 -- this package's own script
	up := exec.CommandContext(ctx, script, "up")
	up.Env = env
	// The script runs docker-compose in the background; on a timeout the whole process group
	// is killed (not the shell alone, whose children would hold the output pipe open), and
	// WaitDelay bounds the wait for the pipe after that.
	up.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	up.Cancel = func() error { return syscall.Kill(-up.Process.Pid, syscall.SIGKILL) }
	up.WaitDelay = 10 * time.Second
	out, err := up.CombinedOutput()
	took := time.Since(start)
	if err == nil {
		t.Fatalf("deploy with durable.replicas 9 succeeded:\n%s", out)
	}
	if !regexp.MustCompile(`deploy: FAILED: .*\n(.|\n)*deploy: service \S+ is `).Match(out) {
		t.Fatalf("deploy failed (%v) without naming the failure and a service:\n%s", err, out)
	}
	if !strings.Contains(string(out), "durable.replicas") {
		t.Errorf("the failure does not quote the roles' own error (durable.replicas):\n%s", out)
	}
	t.Logf("deploy failed as it should in %s", took.Round(time.Second))
	for _, kind := range []string{"container", "network", "volume"} {
		args := []string{kind, "ls", "-q", "--filter", "label=com.docker.compose.project=" + project}
		if kind == "container" {
			args = []string{"ps", "-aq", "--filter", "label=com.docker.compose.project=" + project}
		}
		left, err := exec.CommandContext(ctx, "docker", args...).Output() // #nosec G204 -- constant arguments
		if err != nil {
			t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
		}
		if s := strings.TrimSpace(string(left)); s != "" {
			t.Errorf("the failed deploy left %ss of project %s behind: %s", kind, project, strings.ReplaceAll(s, "\n", " "))
		}
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
