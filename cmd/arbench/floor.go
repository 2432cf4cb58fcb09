package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"time"

	"github.com/valyala/fasthttp"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// The floor paths: Go relays with no logic at all, each a server and a client to the next hop over
// a real socket and nothing else: net/http's ReverseProxy and a fasthttp relay in front of the
// trivial backend nginx's proxy_pass fronts, and net/http's server calling the worker over the
// router's own gRPC hop. Every Go router that calls its next hop over a socket stands on one of
// them, so their rows say what the machine leaves a router before it does any work of its own: a
// target a floor misses in the same run is out of reach of any router built on its parts.

// floorProxyConns is each floor proxy's bound of connections to the backend, as nginx's upstream
// keep-alive and the load generator's pool.
const floorProxyConns = 1024

// startGoProxy serves net/http/httputil's ReverseProxy (net/http's server and client, as the
// router's HTTP door uses) in front of backend.
func startGoProxy(backend string) (string, func(), error) {
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: backend})
	proxy.Transport = &http.Transport{MaxIdleConnsPerHost: floorProxyConns, MaxConnsPerHost: floorProxyConns}
	return serveHTTP(proxy)
}

// startFastProxy serves the same relay on fasthttp's server and client, which spend a fraction of
// net/http's CPU a request (no goroutine per connection's reads and writes, reused request and
// response objects).
func startFastProxy(backend string) (string, func(), error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	client := &fasthttp.HostClient{Addr: backend, MaxConns: floorProxyConns}
	srv := &fasthttp.Server{ReadTimeout: 10 * time.Second, Handler: func(ctx *fasthttp.RequestCtx) {
		if err := client.Do(&ctx.Request, &ctx.Response); err != nil {
			ctx.Error("bad gateway: "+err.Error(), fasthttp.StatusBadGateway)
		}
	}}
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), func() { _ = srv.Shutdown() }, nil
}

// startMixedProxy is net/http's server (the router's HTTP door) relaying over fasthttp's client:
// with startGoProxy and startFastProxy it tells the server's share of a floor from the client's.
func startMixedProxy(backend string) (string, func(), error) {
	client := &fasthttp.HostClient{Addr: backend, MaxConns: floorProxyConns}
	return serveHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.Header.SetMethod(r.Method)
		req.SetRequestURI("http://" + backend + r.URL.RequestURI())
		req.Header.SetContentType(r.Header.Get("Content-Type"))
		body, err := io.ReadAll(r.Body)
		if err == nil {
			req.SetBodyRaw(body)
			err = client.Do(req, resp)
		}
		if err != nil {
			http.Error(w, "bad gateway: "+err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", string(resp.Header.ContentType()))
		w.WriteHeader(resp.StatusCode())
		_, _ = w.Write(resp.Body())
	}))
}

// grpcHop is the router's kind of hop to the worker with none of its logic: one Generate stream
// on one gRPC connection, the worker's credential attached, drained to its end. call makes one
// such call; closeConn closes the connection.
func grpcHop(worker, token string, maxTokens int) (call func(context.Context) error, closeConn func(), err error) {
	conn, err := dial(worker)
	if err != nil {
		return nil, nil, err
	}
	client := arcertv1.NewWorkerClient(conn)
	req := &arcertv1.GenerateRequest{Tenant: &arcertv1.TenantContext{Tenant: "bench", Application: "arbench", User: "arbench"},
		Model: benchModel, Prompt: benchPrompt, MaxTokens: int64(maxTokens), TrafficClass: "interactive"}
	return func(ctx context.Context) error {
		stream, err := client.Generate(bearer(ctx, token), req)
		if err != nil {
			return err
		}
		return drain(stream.Recv)
	}, func() { _ = conn.Close() }, nil
}

// startGRPCHop serves net/http's server (the router's HTTP door) relaying each request to the
// worker over grpcHop, then answering the backend's completion: the router's architecture with
// none of its logic (no decoding, admission, routing, evidence).
func startGRPCHop(worker, token string, maxTokens int) (string, func(), error) {
	call, closeConn, err := grpcHop(worker, token, maxTokens)
	if err != nil {
		return "", nil, err
	}
	body := []byte(backendBody)
	addr, stop, err := serveHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if err := call(r.Context()); err != nil {
			http.Error(w, "bad gateway: "+err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	if err != nil {
		closeConn()
		return "", nil, err
	}
	return addr, func() {
		stop()
		closeConn()
	}, nil
}

// startFastGRPCHop is startGRPCHop behind fasthttp's server: with it, the floors tell whether a
// router on a cheaper HTTP door could keep the gRPC hop to its workers, or needs a cheaper hop too.
func startFastGRPCHop(worker, token string, maxTokens int) (string, func(), error) {
	call, closeConn, err := grpcHop(worker, token, maxTokens)
	if err != nil {
		return "", nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		closeConn()
		return "", nil, err
	}
	body := []byte(backendBody)
	srv := &fasthttp.Server{ReadTimeout: 10 * time.Second, Handler: func(ctx *fasthttp.RequestCtx) {
		// Not ctx itself: a RequestCtx is a context whose Done is neither a cancelCtx's nor an
		// AfterFunc's, so grpc-go's WithCancel on it would start a goroutine a call, a cost the
		// net/http floor's r.Context() does not pay.
		if err := call(context.Background()); err != nil {
			ctx.Error("bad gateway: "+err.Error(), fasthttp.StatusBadGateway)
			return
		}
		ctx.SetContentType("application/json")
		ctx.SetBody(body)
	}}
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), func() {
		_ = srv.Shutdown()
		closeConn()
	}, nil
}

// floorPaths starts the floor proxies (three in front of backend, two in front of the worker) and
// returns their paths and the function that stops them.
func floorPaths(backend, worker, token string, maxTokens int) ([]benchPath, func(), error) {
	var paths []benchPath
	var stops []func()
	stopAll := func() {
		for _, stop := range slices.Backward(stops) {
			stop()
		}
	}
	for _, f := range []struct {
		name  string
		start func() (string, func(), error)
	}{
		{pathGoProxy, func() (string, func(), error) { return startGoProxy(backend) }},
		{pathFastProxy, func() (string, func(), error) { return startFastProxy(backend) }},
		{pathMixedProxy, func() (string, func(), error) { return startMixedProxy(backend) }},
		{pathGRPCHop, func() (string, func(), error) { return startGRPCHop(worker, token, maxTokens) }},
		{pathFastGRPCHop, func() (string, func(), error) { return startFastGRPCHop(worker, token, maxTokens) }},
	} {
		addr, stop, err := f.start()
		if err != nil {
			stopAll()
			return nil, nil, fmt.Errorf("floor path %s: %w", f.name, err)
		}
		stops = append(stops, stop)
		paths = append(paths, benchPath{name: f.name, kind: kindHTTP, addr: addr, secret: benchKey})
	}
	return paths, stopAll, nil
}
