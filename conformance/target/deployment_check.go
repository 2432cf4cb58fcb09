package target

import (
	"fmt"
	"net/url"
	"slices"

	"github.com/aruntime/arcert/internal/yamlschema"
)

// Part roles a deployment may list (Deployment.Parts).
var partRoles = []string{"router", PartStateStore, "worker", "evidence", "cache", "registry", "provider"}

// StateStoreNATS is the state store kind whose stream leaders the harness can ask for.
const StateStoreNATS = "nats-jetstream"

// checkDeployment enforces what the deployment section needs to be acted on: the harness adopts
// every link's proxy by name, kills routers by their endpoint's index, asks each state-store node
// who leads a stream and cuts region networks by region name, so each of those references must
// resolve before any spec breaks anything.
func (t *Target) checkDeployment() []*yamlschema.Problem {
	var probs []*yamlschema.Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, &yamlschema.Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	d := t.Deployment
	if d == nil {
		for i, dep := range t.Dependencies {
			if dep.Proxy != "" {
				add(fmt.Sprintf("dependencies[%d].proxy", i), "names a proxy of the deployment's toxiproxy, but the target has no deployment.toxiproxy")
			}
		}
		return probs
	}
	if d.Toxiproxy != "" {
		if u, err := url.Parse(d.Toxiproxy); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("deployment.toxiproxy", "%q is not a toxiproxy API URL (http://host:port)", d.Toxiproxy)
		}
		for i, dep := range t.Dependencies {
			if dep.Proxy == "" {
				add(fmt.Sprintf("dependencies[%d].proxy", i), "the deployment has its own toxiproxy (deployment.toxiproxy), so every dependency must name its proxy there (%s %s names none)", dep.Role, dep.Name)
			}
		}
	} else {
		for i, dep := range t.Dependencies {
			if dep.Proxy != "" {
				add(fmt.Sprintf("dependencies[%d].proxy", i), "names a proxy of the deployment's toxiproxy, but deployment.toxiproxy is not set")
			}
		}
	}
	if d.Compose != nil && d.Compose.Project == "" {
		add("deployment.compose.project", "name the Compose project (its com.docker.compose.project label)")
	}
	for _, role := range sortedKeys(d.Parts) {
		if !slices.Contains(partRoles, role) {
			add("deployment.parts."+role, "unknown role %q; the roles are %v", role, partRoles)
		}
	}
	if routers, ok := d.Parts["router"]; ok && len(routers) != len(t.Endpoints.HTTPURLs()) {
		add("deployment.parts.router", "lists %d routers but the endpoints give %d; the i-th router serves the i-th endpoint", len(routers), len(t.Endpoints.HTTPURLs()))
	}
	if s := d.StateStore; s != nil {
		if s.Kind != StateStoreNATS {
			add("deployment.state_store.kind", "unknown kind %q; the harness knows %q", s.Kind, StateStoreNATS)
		}
		nodes := d.Parts[PartStateStore]
		if len(nodes) == 0 {
			add("deployment.parts."+PartStateStore, "a state store is described (deployment.state_store) but no part has role %s", PartStateStore)
		}
		for _, n := range nodes {
			if s.Monitor[n] == "" {
				add("deployment.state_store.monitor", "gives no monitoring URL for state-store part %s; the stream leader is asked of every node", n)
			}
		}
		for _, n := range sortedKeys(s.Monitor) {
			if !slices.Contains(nodes, n) {
				add("deployment.state_store.monitor."+n, "%s is not a part of role %s", n, PartStateStore)
			}
		}
		if s.Network == "" {
			add("deployment.state_store.network", "name the network the routers reach the state store over")
		}
	}
	for _, r := range sortedKeys(d.RegionNetworks) {
		if !slices.ContainsFunc(t.Regions, func(g Region) bool { return g.Name == r }) {
			add("deployment.region_networks."+r, "region %q is not declared under regions", r)
		}
	}
	return probs
}

// sortedKeys lists a map's keys in order, so problems come out in a stable order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
