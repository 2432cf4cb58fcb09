// Package testgrpc serves and dials gRPC services on loopback in tests: the setup every test of a
// runtime part repeats, with the cleanup that proves the part stops when asked.
package testgrpc

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// stopTimeout bounds how long a served part may take to return after its context ends.
const stopTimeout = 10 * time.Second

// Serve runs serve on a fresh 127.0.0.1 port until the test ends, then cancels it and fails the
// test if it does not return cleanly within stopTimeout. It returns the address.
func Serve(t testing.TB, name string, serve func(context.Context, net.Listener) error) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s Serve: %v", name, err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("%s Serve did not return after cancel", name)
		}
	})
	return lis.Addr().String()
}

// Dial returns a plaintext connection to addr, closed when the test ends.
func Dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}
