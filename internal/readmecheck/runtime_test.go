package readmecheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bounds of the README test. The build runs cold on a fresh clone (about 35 s on the 2-core
// machine); the runtime starts its workers, JetStream and registry in a few seconds.
const (
	buildTimeout = 5 * time.Minute
	startTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second // drain_timeout 10 s plus shutdown
	pollEvery    = 100 * time.Millisecond
)

// The addresses the README's examples call: `make run` serves the dev configuration's
// router.http_listen and router.grpc_listen.
const (
	readmeHTTP = "127.0.0.1:8080"
	readmeGRPC = "127.0.0.1:8081"
)

// moduleRoot finds the directory of go.mod above the test's working directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

var runRecipe = regexp.MustCompile(`(?m)^run:.*\n((?:\t.*\n)+)`)

// makeRunArgs returns the arguments `make run` passes to bin/aruntime, read from the Makefile,
// so the test starts the runtime exactly as the README's reader does.
func makeRunArgs(t *testing.T, root string) []string {
	t.Helper()
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := runRecipe.FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile: no run target")
	}
	lines := strings.Split(strings.TrimSpace(string(m[1])), "\n")
	fields := strings.Fields(lines[0])
	if len(lines) != 1 || len(fields) == 0 || fields[0] != "$(BIN)/aruntime" {
		t.Fatalf("Makefile: run is %q; this test knows a single `$(BIN)/aruntime ARGS` line", m[1])
	}
	return fields[1:]
}

// workspace builds bin/aruntime and bin/arcert into a fresh directory that links every other
// top-level entry of the module (fixtures, …), so the README's relative paths resolve there and
// the runtime's ./aruntime-data lands in the temporary directory, not in the clone.
func workspace(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	// grpcurl is the module's own tool (go.mod's tool line), built beside them for the gRPC block.
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "bin")+string(filepath.Separator),
		"./cmd/aruntime", "./cmd/arcert", "github.com/fullstorydev/grpcurl/cmd/grpcurl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case "bin", "aruntime-data", "arcert-report", ".git":
			continue
		}
		if err := os.Symlink(filepath.Join(root, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// startRuntime runs bin/aruntime with args in dir and returns once /healthz answers 200. The
// runtime is stopped with SIGTERM (and killed if it does not drain) when the test ends; its log
// is printed if the test failed.
func startRuntime(t *testing.T, dir string, args []string) {
	t.Helper()
	for _, addr := range []string{readmeHTTP, readmeGRPC} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("the README's examples call %s, which is taken (is `make run` already running?): %v", addr, err)
		}
		_ = l.Close()
	}
	var log bytes.Buffer
	cmd := exec.Command(filepath.Join(dir, "bin", "aruntime"), args...)
	// One writer for both streams: exec then writes from one goroutine, and the log is read only
	// after the process has exited.
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("aruntime did not stop within %v of SIGTERM", stopTimeout)
		}
		if t.Failed() {
			t.Logf("aruntime %s log:\n%s", strings.Join(args, " "), log.String())
		}
	})
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("aruntime %s exited before it served: %v", strings.Join(args, " "), err)
		default:
		}
		resp, err := client.Get("http://" + readmeHTTP + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("aruntime did not serve /healthz within %v: %v", startTimeout, err)
		}
		time.Sleep(pollEvery)
	}
}

// runBlock runs one README block with bash in dir, with -e and pipefail so any failing command
// fails it, and curl wrapped to dump each response's headers. It returns the outcomes the
// block's responses stated, its output, and the error of a non-zero exit or a timeout.
func runBlock(ctx context.Context, dir, script string) ([]Outcome, string, error) {
	dumps, err := os.MkdirTemp(dir, "headers-")
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = os.RemoveAll(dumps) }()
	const prelude = "set -eo pipefail\n" +
		"curl() { command curl -D \"$(mktemp \"$READMECHECK_DUMPS/h.XXXXXX\")\" \"$@\"; }\n"
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", prelude+script)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &stdout, &stderr
	// The workspace's bin comes first on PATH: grpcurl as the README calls it.
	cmd.Env = append(os.Environ(), "READMECHECK_DUMPS="+dumps, "PATH="+filepath.Join(dir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	// The block's own children (curl, arcert) die with it when the timeout kills the group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	if ctx.Err() != nil {
		runErr = fmt.Errorf("timed out: %w", ctx.Err())
	}
	out := Output(stdout.String())
	files, _ := filepath.Glob(filepath.Join(dumps, "h.*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, "", err
		}
		out = append(out, Headers(string(b))...)
	}
	return out, stdout.String() + stderr.String(), runErr
}
