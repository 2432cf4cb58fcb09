package driver

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aruntime/arcert/api/outcome"
)

// zeroCostNginx is nginx as a zero-cost runtime: one process (master_process off, so stopping it
// leaves no worker behind), answering every request at once with a contract-conformant completion
// and a request ID of its own. The open-loop benchmark sends to it so that the arcert process's
// CPU is the harness's alone, as when it certifies a runtime on another machine. Arguments: the
// directory, the address, the body, then the contract's header names and the served-by value.
const zeroCostNginx = `daemon off;
master_process off;
error_log %[1]s/error.log warn;
pid %[1]s/nginx.pid;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  server {
    listen %[2]s backlog=4096;
    location / {
      add_header %[4]s $request_id always;
      add_header %[5]s completed always;
      add_header %[6]s none always;
      add_header %[7]s "%[8]s" always;
      default_type application/json;
      return 200 '%[3]s';
    }
  }
}
`

// zeroCostServer starts the benchmark's runtime: nginx where it is installed and starts, else the
// zero-cost runtime in this process, which then shares the process's CPU (the figure is a lower
// bound, and where says so). It returns the base URL.
func zeroCostServer(b *testing.B) (url, where string, inProcess bool) {
	b.Helper()
	url, err := startNginxRuntime(b)
	if err == nil {
		return url, "nginx, one process", false
	}
	srv := httptest.NewServer(zeroCostRuntime())
	b.Cleanup(srv.Close)
	return srv.URL, "in this process (" + err.Error() + "): a lower bound", true
}

// startNginxRuntime starts zeroCostNginx and waits until it answers as the contract says.
func startNginxRuntime(b *testing.B) (string, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx" // Debian's, when /usr/sbin is not on PATH
	}
	if _, err := os.Stat(bin); err != nil {
		return "", errors.New("nginx is not installed")
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	dir := b.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	text := fmt.Appendf(nil, zeroCostNginx, dir, addr, zeroCostBody(), outcome.HeaderRequestID, outcome.HeaderOutcome,
		outcome.HeaderReason, outcome.HeaderServedBy, benchServedBy.String())
	if err := os.WriteFile(conf, text, 0o600); err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "-c", conf, "-p", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // killed if the benchmark's thread dies
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	b.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	// Go raised this process's limit on open files but gave nginx the original one (often
	// 1,024), below the connections the driver keeps: give nginx this process's.
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err == nil {
		_ = unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_NOFILE, &lim, nil)
	}
	errorLog := func() string { log, _ := os.ReadFile(filepath.Join(dir, "error.log")); return string(log) }
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			return "", fmt.Errorf("nginx exited (%w): %s", err, errorLog())
		default:
		}
		resp, err := http.Post("http://"+addr+PathChatCompletions, "application/json", nil)
		if err == nil {
			_ = resp.Body.Close()
			if resp.Header.Get(outcome.HeaderOutcome) == string(outcome.Completed) {
				return "http://" + addr, nil
			}
			return "", fmt.Errorf("%s answered without %s: another server took the port", addr, outcome.HeaderOutcome)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("nginx did not answer on %s: %w: %s", addr, err, errorLog())
		}
	}
}
