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

// nginxConf proxies gRPC to the worker with keep-alive upstream connections, the configuration a
// careful operator would use, so the comparison is against nginx at its best.
const nginxConf = `daemon off;
worker_processes 1;
error_log %[1]s/error.log warn;
pid %[1]s/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  upstream worker { server %[2]s; keepalive 256; }
  server {
    listen %[3]s http2;
    location / { grpc_pass grpc://worker; }
  }
}
`

// nginxStartTimeout bounds waiting for nginx to accept connections.
const nginxStartTimeout = 5 * time.Second

// nginxTarget starts nginx (if installed) in front of the worker and returns a worker-like target
// through it, plus a function that stops nginx.
func nginxTarget(workerAddr, token string, maxTokens int) (target, func(), error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return target{}, nil, errors.New("nginx is not installed")
	}
	dir, err := os.MkdirTemp("", "arbench-nginx-")
	if err != nil {
		return target{}, nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return target{}, nil, err
	}
	addr := lis.Addr().String()
	_ = lis.Close() // nginx binds it next; a clash fails the start below, loudly
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, dir, workerAddr, addr)), 0o600); err != nil {
		return target{}, nil, err
	}
	cmd := exec.Command(bin, "-c", conf, "-p", dir)
	// nginx forks its worker processes, which outlive a master killed with SIGKILL (as
	// exec.CommandContext would kill it). So nginx runs in a process group of its own and is
	// stopped as a group: SIGQUIT (graceful) to every member, then SIGKILL to whatever is left.
	// On Linux, the master is also told to stop (and stops its workers) if arbench dies first.
	cmd.SysProcAttr = groupProcAttr()
	if err := cmd.Start(); err != nil {
		return target{}, nil, err
	}
	pgid := cmd.Process.Pid
	stop := func() {
		stopGroup(pgid, cmd)
		_ = os.RemoveAll(dir)
	}
	deadline := time.Now().Add(nginxStartTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log")) // before stop removes dir
			stop()
			return target{}, nil, fmt.Errorf("nginx did not listen on %s: %s", addr, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t := workerLike("nginx grpc_pass, to worker", addr, token, maxTokens)
	inner := t.close
	t.close = nil
	return t, func() { inner(); stop() }, nil
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
