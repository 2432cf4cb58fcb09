package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-c", conf, "-p", dir)
	if err := cmd.Start(); err != nil {
		cancel()
		return target{}, nil, err
	}
	stop := func() {
		cancel()
		_ = cmd.Wait()
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
			stop()
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return target{}, nil, fmt.Errorf("nginx did not listen on %s: %s", addr, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t := workerLike("nginx grpc_pass, to worker", addr, token, maxTokens)
	inner := t.close
	t.close = nil
	return t, func() { inner(); stop() }, nil
}
