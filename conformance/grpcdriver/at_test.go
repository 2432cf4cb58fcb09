package grpcdriver

import (
	"context"
	"testing"
	"time"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// TestAtPinsOneRouter: every call of At(i) goes to router i, whatever the turn of the original.
func TestAtPinsOneRouter(t *testing.T) {
	// Nothing listens on these ports (port 1 and 2 are privileged and unused), so every call
	// fails at once, naming the router it was sent to.
	c, err := New("127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if c.Len() != 3 {
		t.Fatalf("Len is %d, want 3", c.Len())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	one := c.At(1)
	for i := range 4 {
		res, err := one.Complete(ctx, "k", &arcertv1.CompleteRequest{})
		if err == nil {
			t.Fatalf("call %d to a closed port succeeded", i)
		}
		if res.Endpoint != "127.0.0.1:2" {
			t.Errorf("call %d of At(1) went to %q, want 127.0.0.1:2", i, res.Endpoint)
		}
	}
	if one.Len() != 1 {
		t.Errorf("At(1).Len() is %d, want 1", one.Len())
	}
}
