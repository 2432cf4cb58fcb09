package admission

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewValidatesConfig(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(*Config)
	}{
		{"Classes", func(c *Config) { c.Classes = nil }},
		{"Tenants", func(c *Config) { c.Tenants = nil }},
		{"Capacity", func(c *Config) { c.Capacity = -1 }},
		{"BurstWindow", func(c *Config) { c.BurstWindow = -time.Second }},
		{"Classes[0].Name", func(c *Config) { c.Classes[0].Name = "" }},
		{"Classes[1].Name", func(c *Config) { c.Classes[1].Name = c.Classes[0].Name }},
		{"Classes[1].QueueCapacity", func(c *Config) { c.Classes[1].QueueCapacity = 0 }},
		{"Tenants[0].Name", func(c *Config) { c.Tenants[0].Name = "" }},
		{"Tenants[1].Name", func(c *Config) { c.Tenants = append(c.Tenants, c.Tenants[0]) }},
		{"Tenants[0].RequestsPerMinute", func(c *Config) { c.Tenants[0].RequestsPerMinute = 0 }},
		{"Tenants[0].TokensPerMinute", func(c *Config) { c.Tenants[0].TokensPerMinute = -5 }},
		{"Tenants[0].MaxConcurrency", func(c *Config) { c.Tenants[0].MaxConcurrency = 0 }},
	} {
		cfg := testConfig()
		tc.mutate(&cfg)
		_, err := New(cfg)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig naming the field", tc.field, err)
		}
	}
	if _, err := New(testConfig()); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

// A bucket starts full and holds rate*BurstWindow, at least one.
func TestBucketBurst(t *testing.T) {
	for _, tc := range []struct {
		name         string
		rpm, tpm     int
		window       time.Duration
		reqs, tokens float64
	}{
		{"default window is one second", 600, 60_000, 0, 10, 1000},
		{"two second window", 600, 60_000, 2 * time.Second, 20, 2000},
		{"at least one", 1, 1, 0, 1, 1},
		{"rounds down", 100, 100, 0, 1, 1}, // 1.67/s
	} {
		cfg := testConfig()
		cfg.BurstWindow = tc.window
		cfg.Tenants[0].RequestsPerMinute, cfg.Tenants[0].TokensPerMinute = tc.rpm, tc.tpm
		h := newHarness(t, cfg)
		q, ok := h.c.Quota(acme)
		if !ok {
			t.Fatal("Quota(acme) not found")
		}
		if q.RequestsRemaining != tc.reqs || q.TokensRemaining != tc.tokens {
			t.Errorf("%s: remaining = %v requests, %v tokens; want %v, %v",
				tc.name, q.RequestsRemaining, q.TokensRemaining, tc.reqs, tc.tokens)
		}
		if q.RequestsPerMinute != tc.rpm || q.TokensPerMinute != tc.tpm || q.MaxConcurrency != 64 {
			t.Errorf("%s: declared limits = %+v", tc.name, q)
		}
	}
	if _, ok := newHarness(t, testConfig()).c.Quota("nobody"); ok {
		t.Error("Quota of an unknown tenant reported ok")
	}
}
