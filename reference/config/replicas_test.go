package config

import (
	"strings"
	"testing"
)

// TestDurableReplicas: durable.replicas defaults to 1 (the embedded single-node server), accepts
// 1..5 on an external cluster, and refuses 0 or less, more than JetStream's 5, and more than one
// without a cluster to replicate on.
func TestDurableReplicas(t *testing.T) {
	cfg, err := Parse("dev.yaml", devYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Durable.Replicas != 1 {
		t.Fatalf("durable.replicas defaults to %d, want 1", cfg.Durable.Replicas)
	}
	tests := []struct {
		replicas int
		natsURL  string
		want     string // "" accepts
	}{
		{1, "", ""},
		{3, "nats://nats-1:4222", ""},
		{5, "nats://nats-1:4222", ""},
		{3, "", "the embedded server is a single node"},
		{-1, "nats://nats-1:4222", "outside 1..5"},
		{6, "nats://nats-1:4222", "outside 1..5"},
	}
	for _, tc := range tests {
		c := *cfg
		c.Durable.Replicas, c.Durable.NATSURL = tc.replicas, tc.natsURL
		errs := c.validate()
		switch {
		case tc.want == "" && len(errs) != 0:
			t.Errorf("replicas %d at %q refused: %v", tc.replicas, tc.natsURL, errs)
		case tc.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), "durable.replicas") || !strings.Contains(errs[0].Error(), tc.want)):
			t.Errorf("replicas %d at %q: errors %v, want one on durable.replicas saying %q", tc.replicas, tc.natsURL, errs, tc.want)
		}
	}
}
