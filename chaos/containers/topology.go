package containers

import (
	"fmt"
	"net"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/aruntime/arcert/api/link"
	devconfig "github.com/aruntime/arcert/fixtures/config"
	"github.com/aruntime/arcert/fixtures/targets"
	"github.com/aruntime/arcert/reference/config"
)

// Network aliases and ports inside the deployment's network. fixtures/config/containers.yaml and
// fixtures/targets/containers.yaml use the same ones.
const (
	toxiproxyAlias = "toxiproxy"
	toxiproxyAPI   = "8474/tcp"
	routerHTTP     = "8080/tcp"
	routerGRPC     = "8081/tcp"
	durableNATS    = "4222/tcp"
	durableOCI     = "5000/tcp"
	providerAPI    = "8090/tcp"
	configPath     = "/etc/aruntime.yaml"
	dataDir        = "/data"
)

// Roles of the parts, for Parts, Kill and Restart.
const (
	RoleRouter   = "router"
	RoleWorker   = "worker"
	RoleDurable  = "durable"
	RoleCache    = "cache"
	RoleProvider = "provider"
)

// spec is one part of the deployment: a container of the aruntime image whose network alias is
// its name.
type spec struct {
	name, role string
	args       []string
	ports      []string
	// ready is the log line the part prints once it serves (after every role it runs started).
	ready string
	// durable parts run the configuration with JetStream embedded and the registry served.
	durable bool
}

// readyLine is what `aruntime` prints once runtime.Start has returned, and the provider stand-in
// once it listens.
const (
	readyLine         = "running from"
	providerReadyLine = "listening on"
)

// specs lists the parts of cfg in the order they start: JetStream and the registry first (every
// other part dials them), then what workers and the router dial, then the workers, the router last.
func specs(cfg *config.Config) [][]spec {
	cfgArg := []string{"--config", configPath, "--log-format", "json"}
	with := func(args ...string) []string { return append(args, cfgArg...) }
	stages := [][]spec{
		{{name: "durable", role: RoleDurable, args: with("evidence", "--data", dataDir), ports: []string{durableNATS, durableOCI}, ready: readyLine, durable: true}},
		{{name: "cache", role: RoleCache, args: with("cache"), ready: readyLine}},
	}
	for _, p := range cfg.Providers {
		stages[1] = append(stages[1], spec{name: "provider", role: RoleProvider, args: with("provider", "--name", p.Name, "--listen", "0.0.0.0:8090"),
			ports: []string{providerAPI}, ready: providerReadyLine})
		break // one stand-in: the configuration's provider URL names the alias "provider"
	}
	var workers []spec
	for _, w := range cfg.Workers {
		workers = append(workers, spec{name: w.ID, role: RoleWorker, args: with("worker", "--id", w.ID), ready: readyLine})
	}
	router := spec{name: "router", role: RoleRouter, args: with("router", "--data", dataDir), ports: []string{routerHTTP, routerGRPC}, ready: readyLine}
	return append(stages, workers, []spec{router})
}

// loadConfig parses the embedded containers configuration, so a mistake in it stops Deploy before
// any container starts.
func loadConfig() (*config.Config, error) {
	return config.Parse(devconfig.ContainersName, devconfig.ContainersYAML)
}

// roleConfig returns the configuration one part runs. The durable part embeds the JetStream the
// others dial (durable.nats_url cleared) and serves the registry without seeding it (the runtime
// seeds only a registry it reaches on loopback; Deploy seeds it from the host), so it needs no
// signature key either. Every other part leaves the registry to it (artifacts.registry_listen
// cleared), so the router does not start a second one.
func roleConfig(durable bool) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(devconfig.ContainersYAML, &root); err != nil {
		return nil, fmt.Errorf("containers: %s: %w", devconfig.ContainersName, err)
	}
	type edit struct{ tag, value, section, key string }
	edits := []edit{{"!!str", "", "artifacts", "registry_listen"}}
	if durable {
		edits = []edit{{"!!str", "", "durable", "nats_url"}, {"!!bool", "false", "artifacts", "seed_fixtures"}, {"!!bool", "false", "artifacts", "require_signature"}}
	}
	for _, e := range edits {
		if err := setScalar(&root, e.tag, e.value, e.section, e.key); err != nil {
			return nil, err
		}
	}
	return yaml.Marshal(&root)
}

// setScalar sets the scalar at path (mapping keys) in a YAML document.
func setScalar(doc *yaml.Node, tag, value string, path ...string) error {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, key := range path {
		next := (*yaml.Node)(nil)
		for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return fmt.Errorf("containers: %s has no %s", devconfig.ContainersName, strings.Join(path, "."))
		}
		n = next
	}
	n.Kind, n.Tag, n.Value = yaml.ScalarNode, tag, value
	return nil
}

// targetLinks reads the dependencies of the embedded containers target, each a proxy to create:
// the parts dial toxiproxy:PORT, so the proxy listens on 0.0.0.0:PORT in its container (the Dial
// of the returned link, which Engine.Proxy listens on) and reaches ALIAS:PORT. A region link's
// part is its worker (the upstream's alias).
func targetLinks() ([]link.Link, error) {
	var t struct {
		Dependencies []link.Link `yaml:"dependencies"`
	}
	if err := yaml.Unmarshal(targets.ContainersYAML, &t); err != nil {
		return nil, fmt.Errorf("containers: %s: %w", targets.ContainersName, err)
	}
	var out []link.Link
	for _, d := range t.Dependencies {
		host, port, err := net.SplitHostPort(d.Dial)
		if err != nil || host != toxiproxyAlias {
			return nil, fmt.Errorf("containers: %s: dependency %s %s dials %q, not %s:PORT", targets.ContainersName, d.Role, d.Name, d.Dial, toxiproxyAlias)
		}
		up, _, err := net.SplitHostPort(d.Upstream)
		if err != nil {
			return nil, fmt.Errorf("containers: %s: dependency %s %s: upstream %q: %w", targets.ContainersName, d.Role, d.Name, d.Upstream, err)
		}
		l := link.Link{Role: d.Role, Name: d.Name, Dial: "0.0.0.0:" + port, Upstream: d.Upstream}
		if d.Role == link.RoleRegion {
			l.Part = up
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("containers: %s declares no dependencies to proxy", targets.ContainersName)
	}
	return out, nil
}
