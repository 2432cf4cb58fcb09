package driver

import (
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
)

// zeroCostNginx is nginx as a zero-cost runtime: one process (master_process off, so stopping it
// leaves no worker behind), answering every request at once with a contract-conformant completion
// and a request ID of its own. The open-loop benchmark sends to it so that the arcert process's
// CPU is the harness's alone, as when it certifies a runtime on another machine.
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
      add_header X-Request-Id $request_id always;
      add_header ARuntime-Outcome completed always;
      add_header ARuntime-Outcome-Reason none always;
      add_header ARuntime-Served-By "region=local; pool=bench; worker=w" always;
      default_type application/json;
      return 200 '%[3]s';
    }
  }
}
`

// zeroCostServer starts the benchmark's runtime: nginx where it is installed, else the zero-cost
// runtime in this process (which then shares the process's CPU: the figure is a lower bound, and
// it says so). It returns the base URL and how the runtime runs.
func zeroCostServer(b *testing.B) (url, where string) {
	b.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx" // Debian's, when /usr/sbin is not on PATH
	}
	if _, err := os.Stat(bin); err != nil {
		srv := httptest.NewServer(zeroCostRuntime())
		b.Cleanup(srv.Close)
		return srv.URL, "in this process (nginx is not installed): a lower bound"
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	dir := b.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, zeroCostNginx, dir, addr, zeroCostBody()), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf, "-p", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the benchmark
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Post("http://"+addr+PathChatCompletions, "application/json", nil)
		if err == nil {
			_ = resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			b.Fatalf("nginx did not answer on %s: %v: %s", addr, err, log)
		}
	}
	return "http://" + addr, "nginx, one process"
}
