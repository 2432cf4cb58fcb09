package preflight

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// twoRouters is testTarget with a second router at more.
func twoRouters(primary, more string) (*target.Target, *driver.Client) {
	tg := testTarget(primary)
	tg.Endpoints.More = []target.Router{{HTTP: more}}
	return tg, driver.New(primary, driver.WithMoreEndpoints(more))
}

// runTwo runs the preflight against a target listing the two routers.
func runTwo(primary, more string) ([]Step, error) {
	tg, c := twoRouters(primary, more)
	return Run(context.Background(), tg, c)
}

// TestPreflightEveryRouter: a target listing two routers passes only when both serve; a dead or
// misconfigured second router is named by its URL and its field in one sentence.
func TestPreflightEveryRouter(t *testing.T) {
	good := fakeRuntime{keys: map[string]bool{"key-a": true, "key-b": true}, models: []string{"tiny"}}
	a := httptest.NewServer(good)
	defer a.Close()

	b := httptest.NewServer(good)
	steps, err := runTwo(a.URL, b.URL)
	if err != nil {
		t.Fatalf("two serving routers refused: %v", err)
	}
	if len(steps) != 1+2*4 {
		t.Errorf("%d steps passed, want 9 (reachable, then four per router)", len(steps))
	}
	b.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	_ = ln.Close()
	_, err = runTwo(a.URL, dead)
	if want := "cannot reach the runtime at " + dead + " (endpoints.more[0].http): "; err == nil || !errors.Is(err, ErrPreflight) || !strings.Contains(err.Error(), want) {
		t.Fatalf("a dead second router: got %v, want an ErrPreflight saying %q", err, want)
	}

	strict := fakeRuntime{keys: map[string]bool{"key-a": true}, models: []string{"tiny"}}
	c := httptest.NewServer(strict)
	defer c.Close()
	_, err = runTwo(a.URL, c.URL)
	if want := "the router at " + c.URL + " (endpoints.more[0].http): tenant b's declared credential was refused"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("a second router refusing a tenant: got %v, want %q", err, want)
	}
}

// TestPreflightDeadGRPC: a gRPC address nothing listens on is named with its field.
func TestPreflightDeadGRPC(t *testing.T) {
	srv := httptest.NewServer(fakeRuntime{keys: map[string]bool{"key-a": true, "key-b": true}, models: []string{"tiny"}})
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()
	tg := testTarget(srv.URL)
	tg.Endpoints.GRPC = dead
	_, err = Run(context.Background(), tg, driver.New(srv.URL))
	if want := "cannot reach the runtime's gRPC endpoint at " + dead + " (endpoints.grpc): "; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
}
