package main

import (
	"testing"

	"github.com/aruntime/arcert/reference/config"
)

// TestRouterNATSFlagsOverrideTheConfiguration: deploy/compose's routers share aruntime.yaml with
// every other role but dial JetStream through their own network, so the three flags replace
// the three addresses, and an unset flag leaves its address alone.
func TestRouterNATSFlagsOverrideTheConfiguration(t *testing.T) {
	cmd := rootCommand()
	router, _, err := cmd.Find([]string{"router"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nats-url", "queue-nats-url", "evidence-nats-url"} {
		if router.Flags().Lookup(name) == nil {
			t.Fatalf("router has no --%s", name)
		}
	}
	if err := router.Flags().Parse([]string{"--nats-url", "nats://toxiproxy-state:7050", "--evidence-nats-url", "nats://toxiproxy-state:7045"}); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Durable: config.Durable{NATSURL: "nats://a:1", QueueURL: "nats://q:1", EvidenceURL: "nats://e:1"}}
	val := func(name string) string { return router.Flags().Lookup(name).Value.String() }
	applyOverrides(cfg, &flags{natsURL: val("nats-url"), queueNATSURL: val("queue-nats-url"), evidenceNATSURL: val("evidence-nats-url")})
	if cfg.Durable.NATSURL != "nats://toxiproxy-state:7050" || cfg.Durable.QueueURL != "nats://q:1" || cfg.Durable.EvidenceURL != "nats://toxiproxy-state:7045" {
		t.Fatalf("durable after the flags: %+v", cfg.Durable)
	}
}
