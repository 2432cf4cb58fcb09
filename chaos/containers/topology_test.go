package containers

import (
	"net/url"
	"testing"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/reference/config"
)

// TestConfigDialsTheTargetsProxies keeps fixtures/config/containers.yaml and the dependencies of
// fixtures/targets/containers.yaml in step, without Docker: every address a part dials for a
// dependency is the dial of the link the target declares for it, so no link bypasses its proxy.
func TestConfigDialsTheTargetsProxies(t *testing.T) {
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	links, err := targetLinks()
	if err != nil {
		t.Fatal(err)
	}
	dial := map[string]string{} // role/name/part → toxiproxy:PORT
	for _, l := range links {
		dial[string(l.Role)+"/"+l.Name+"/"+l.Part] = toxiproxyAlias + l.Dial[len("0.0.0.0"):]
	}
	host := func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		return u.Host
	}
	want := map[string]string{
		string(link.RoleCache) + "/l2/":           cfg.Cache.Address,
		string(link.RoleQueue) + "/jetstream/":    host(cfg.Durable.QueueURL),
		string(link.RoleEvidence) + "/jetstream/": host(cfg.Durable.EvidenceURL),
	}
	for _, p := range cfg.Providers {
		want[string(link.RoleProvider)+"/"+p.Name+"/"] = host(p.BaseURL)
	}
	for _, w := range cfg.Workers {
		want[string(link.RoleRegion)+"/"+w.Region+"/"+w.ID] = w.Address
	}
	for key, got := range want {
		if dial[key] != got {
			t.Errorf("%s: the configuration dials %q, the target's proxy listens at %q", key, got, dial[key])
		}
	}
}

// TestRoleConfigsAreValid checks that both variants of the configuration load: the durable part's
// (JetStream embedded, registry unseeded) and everyone else's (no registry of their own).
func TestRoleConfigsAreValid(t *testing.T) {
	for _, durable := range []bool{true, false} {
		data, err := roleConfig(durable)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Parse("role.yaml", data)
		if err != nil {
			t.Fatalf("durable=%v: %v", durable, err)
		}
		if durable && (cfg.Durable.NATSURL != "" || cfg.Artifacts.RegistryListen == "") {
			t.Errorf("durable part: nats_url %q, registry_listen %q", cfg.Durable.NATSURL, cfg.Artifacts.RegistryListen)
		}
		if !durable && (cfg.Durable.NATSURL == "" || cfg.Artifacts.RegistryListen != "") {
			t.Errorf("other parts: nats_url %q, registry_listen %q", cfg.Durable.NATSURL, cfg.Artifacts.RegistryListen)
		}
	}
}
