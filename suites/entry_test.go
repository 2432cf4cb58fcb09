package suites

import (
	"errors"
	"testing"
	"time"

	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/grpcdriver"
	"github.com/aruntime/arcert/conformance/target"
)

// TestEntriesNameTheirRouter: a request's ledger entry names the router its result came from,
// over HTTP and gRPC, answered or broken off.
func TestEntriesNameTheirRouter(t *testing.T) {
	defer func(old *Env) { env = old }(env)
	env = &Env{Target: &target.Target{}}
	tn := target.Tenant{Name: "a"}
	at := time.Now()
	if e := entryOf(tn, driver.Result{Start: at, Endpoint: "http://10.0.0.2:8080"}, nil); e.Endpoint != "http://10.0.0.2:8080" {
		t.Errorf("HTTP entry endpoint %q", e.Endpoint)
	}
	if e := entryOf(tn, driver.Result{Endpoint: "http://10.0.0.3:8080"}, errors.New("reset")); e.Endpoint != "http://10.0.0.3:8080" || !e.Indeterminate {
		t.Errorf("broken HTTP entry: endpoint %q, indeterminate %v", e.Endpoint, e.Indeterminate)
	}
	if e := entryOfGRPC(tn, grpcdriver.Result{Start: at, Endpoint: "10.0.0.2:8081"}, nil); e.Endpoint != "10.0.0.2:8081" {
		t.Errorf("gRPC entry endpoint %q", e.Endpoint)
	}
}
