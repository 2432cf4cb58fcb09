package config

import (
	"strings"
	"testing"
)

// TestRouterLimits: router.limits defaults to local; split is accepted with durable.nats_url and
// refused without it; anything else, or a router.id that cannot be a key, is an error naming the
// key.
func TestRouterLimits(t *testing.T) {
	cfg, err := Parse("dev.yaml", devYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Router.Limits != LimitsLocal {
		t.Fatalf("router.limits defaults to %q, want %q", cfg.Router.Limits, LimitsLocal)
	}
	tests := []struct {
		limits, id, natsURL string
		field, want         string // "" accepts
	}{
		{LimitsLocal, "", "", "", ""},
		{LimitsSplit, "router-1", "nats://nats-1:4222", "", ""},
		{LimitsSplit, "", "", "router.limits", "durable.nats_url, which is not set"},
		{"shared", "", "nats://nats-1:4222", "router.limits", `"shared" is neither`},
		{LimitsSplit, "router.1", "nats://nats-1:4222", "router.id", "is not a router id"},
	}
	for _, tc := range tests {
		c := *cfg
		c.Router.Limits, c.Router.ID, c.Durable.NATSURL = tc.limits, tc.id, tc.natsURL
		errs := c.validate()
		switch {
		case tc.want == "" && len(errs) != 0:
			t.Errorf("limits %q id %q at %q refused: %v", tc.limits, tc.id, tc.natsURL, errs)
		case tc.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.field) || !strings.Contains(errs[0].Error(), tc.want)):
			t.Errorf("limits %q id %q at %q: errors %v, want one on %s saying %q", tc.limits, tc.id, tc.natsURL, errs, tc.field, tc.want)
		}
	}
}
