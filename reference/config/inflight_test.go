package config

import (
	"strings"
	"testing"
)

// TestMaxInflightDefault: a silent router.max_inflight is twice what the workers and class queues
// hold (the workers' max_waiting defaults counted), at least MinMaxInflight; a declared one is
// kept; a negative one is an error naming the key.
func TestMaxInflightDefault(t *testing.T) {
	cfg, err := Parse("dev.yaml", devYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, w := range cfg.Workers {
		if w.Engine.MaxWaiting == 0 {
			t.Fatalf("worker %s: max_waiting not defaulted", w.ID)
		}
		held += w.Engine.MaxBatch + w.Engine.MaxWaiting
	}
	for _, k := range cfg.TrafficClasses {
		held += k.QueueCapacity
	}
	for _, p := range cfg.Providers {
		held += p.MaxConcurrency
	}
	if want := max(2*held, MinMaxInflight); cfg.Router.MaxInflight != want {
		t.Errorf("router.max_inflight defaults to %d, want %d (twice %d held)", cfg.Router.MaxInflight, want, held)
	}

	big := &Config{Workers: []Worker{{Engine: EngineSpec{MaxBatch: 1000, MaxWaiting: 4000}}}, TrafficClasses: []TrafficClass{{QueueCapacity: 500}}}
	if got := big.DefaultMaxInflight(); got != 11000 {
		t.Errorf("default of 1000+4000 held by a worker and 500 queued: %d, want 11000", got)
	}
	if got := (&Config{}).DefaultMaxInflight(); got != MinMaxInflight {
		t.Errorf("default with nothing held: %d, want %d", got, MinMaxInflight)
	}

	declared, err := Parse("dev.yaml", []byte(strings.Replace(string(devYAML(t)), "router:\n", "router:\n  max_inflight: 7\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if declared.Router.MaxInflight != 7 {
		t.Errorf("declared router.max_inflight 7 became %d", declared.Router.MaxInflight)
	}
	c := *cfg
	c.Router.MaxInflight = -1
	if errs := c.validate(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "router.max_inflight") {
		t.Errorf("negative router.max_inflight: errors %v, want one naming the key", errs)
	}
}
