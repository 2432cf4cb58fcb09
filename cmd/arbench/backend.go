package main

import (
	"io"
	"net"
	"net/http"
	"time"
)

// backendBody is a chat completion of the size the router answers with, so nginx's proxy_pass
// carries as many bytes back as the router does.
const backendBody = `{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"tok tok tok tok"},"finish_reason":"length"}],` +
	`"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}`

// startBackend serves the trivial Go HTTP backend behind nginx's proxy_pass: it reads the request
// and answers a fixed completion, the least an origin can do, so the nginx row measures nginx.
func startBackend() (string, func(), error) {
	body := []byte(backendBody)
	return serveHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
}

// serveHTTP serves h with net/http on a fresh loopback port and returns its address and the
// function that closes it: the backend and the net/http floors are each one such server.
func serveHTTP(h http.Handler) (string, func(), error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: h}
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), func() { _ = srv.Close() }, nil
}
