package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// nginxConf is one nginx (one worker process, as the router is one process) with two servers:
// proxy_pass to the trivial Go backend (against the router's OpenAI HTTP door) and grpc_pass to
// the worker (against its gRPC door). Both keep upstream connections alive, the configuration a
// careful operator would use, so the comparison is against nginx at its best.
const nginxConf = `daemon off;
worker_processes 1;
error_log %[1]s/error.log warn;
pid %[1]s/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  keepalive_requests 1000000;
  upstream worker { server %[2]s; keepalive 256; }
  upstream backend { server %[4]s; keepalive 256; keepalive_requests 1000000; }
  server {
    listen %[3]s http2;
    location / { grpc_pass grpc://worker; }
  }
  server {
    listen %[5]s;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`

// nginxStartTimeout bounds waiting for nginx to accept connections.
const nginxStartTimeout = 5 * time.Second

// nginxAddrs are the two front doors of the nginx arbench starts.
type nginxAddrs struct {
	grpc string // grpc_pass to the worker
	http string // proxy_pass to the backend
	// group is nginx's process group (its master's pid), whose CPU a run through nginx counts.
	group int
}

// freeAddr returns a loopback address nobody listens on (nginx binds it next; a clash fails
// nginx's start, loudly).
func freeAddr() (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr, nil
}

// startNginx starts nginx (if installed) in front of the worker and the backend and returns its
// addresses, plus a function that stops nginx and every process it forked.
func startNginx(workerAddr, backendAddr string) (nginxAddrs, func(), error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			return nginxAddrs{}, nil, errors.New("nginx is not installed")
		}
		bin = "/usr/sbin/nginx" // Debian's, when /usr/sbin is not on PATH
	}
	dir, err := os.MkdirTemp("", "arbench-nginx-")
	if err != nil {
		return nginxAddrs{}, nil, err
	}
	var addrs nginxAddrs
	if addrs.grpc, err = freeAddr(); err != nil {
		return nginxAddrs{}, nil, err
	}
	if addrs.http, err = freeAddr(); err != nil {
		return nginxAddrs{}, nil, err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, dir, workerAddr, addrs.grpc, backendAddr, addrs.http)), 0o600); err != nil {
		return nginxAddrs{}, nil, err
	}
	cmd := exec.Command(bin, "-c", conf, "-p", dir)
	// nginx forks its worker processes, which outlive a master killed with SIGKILL (as
	// exec.CommandContext would kill it). So nginx runs in a process group of its own and is
	// stopped as a group: SIGQUIT (graceful) to every member, then SIGKILL to whatever is left.
	// On Linux, the master is also told to stop (and stops its workers) if arbench dies first.
	cmd.SysProcAttr = groupProcAttr()
	if err := cmd.Start(); err != nil {
		return nginxAddrs{}, nil, err
	}
	pgid := cmd.Process.Pid
	addrs.group = pgid
	stop := func() {
		stopGroup(pgid, cmd)
		_ = os.RemoveAll(dir)
	}
	for _, addr := range []string{addrs.grpc, addrs.http} {
		if err := waitListening(addr, nginxStartTimeout); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log")) // before stop removes dir
			stop()
			return nginxAddrs{}, nil, fmt.Errorf("nginx did not listen on %s: %s", addr, log)
		}
	}
	return addrs, stop, nil
}

// waitListening waits until addr accepts a TCP connection, or timeout.
func waitListening(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nginxStopTimeout bounds a graceful stop before the group is killed.
const nginxStopTimeout = 3 * time.Second

// stopGroup stops every process of group pgid (nginx's master, which leads it, and its workers)
// and reaps the master: SIGQUIT, then SIGKILL after nginxStopTimeout. It returns once no process
// of the group is left, or after a second wait for the kill.
func stopGroup(pgid int, master *exec.Cmd) {
	_ = syscall.Kill(-pgid, syscall.SIGQUIT)
	done := make(chan struct{})
	go func() { _ = master.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(nginxStopTimeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
	for deadline := time.Now().Add(nginxStopTimeout); groupAlive(pgid) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // workers exit just after their master
	}
	if groupAlive(pgid) {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// groupAlive reports whether any process of group pgid still exists.
func groupAlive(pgid int) bool { return syscall.Kill(-pgid, 0) == nil }
