package target

import (
	"strings"
	"testing"
)

// withDeployment is minimal with two routers, two regions, two links and a deployment section
// that every check accepts; each case below breaks one thing in it.
const withDeployment = minimal + `  - {name: c, key: kc, traffic_classes: [default]}
regions:
  - {name: eu-west, pools: [gpu]}
  - {name: us-east, pools: [gpu]}
dependencies:
  - {role: region, name: eu-west, part: worker-a, dial: "toxiproxy:7001", upstream: "worker-a:9000", proxy: region-worker-a}
  - {role: queue, name: jetstream, part: nats-1, dial: "toxiproxy:7040", upstream: "nats-1:4222", proxy: queue-nats-1}
deployment:
  compose: {project: arcert-deploy}
  toxiproxy: http://127.0.0.1:18474
  parts:
    router: [router-1, router-2]
    state-store: [nats-1, nats-2]
    worker: [worker-a]
  state_store:
    kind: nats-jetstream
    monitor: {nats-1: "http://127.0.0.1:18222", nats-2: "http://127.0.0.1:18223"}
    evidence_stream: EVIDENCE_IN
    network: state
  region_networks: {eu-west: eu-west, us-east: us-east}
`

// twoRouters gives minimal's endpoints a second router, as the deployment lists two.
func twoRouters(s string) string {
	return strings.Replace(s, `endpoints: {http: "http://127.0.0.1:11434"}`, `endpoints: {http: "http://127.0.0.1:11434", more: [{http: "http://127.0.0.1:11435"}]}`, 1)
}

func TestDeploymentSectionParses(t *testing.T) {
	tg, err := Parse("deployment.yaml", []byte(twoRouters(withDeployment)))
	if err != nil {
		t.Fatal(err)
	}
	d := tg.Deployment
	if d == nil || d.Compose.Project != "arcert-deploy" || d.StateStore.Monitor["nats-2"] != "http://127.0.0.1:18223" || tg.Dependencies[1].Proxy != "queue-nats-1" || d.RegionNetworks["us-east"] != "us-east" {
		t.Fatalf("decoded deployment %+v, dependencies %+v", d, tg.Dependencies)
	}
}

// TestDeploymentErrorsNameTheField: each reference the harness follows when it acts on the
// deployment is refused, naming its field, when it cannot resolve.
func TestDeploymentErrorsNameTheField(t *testing.T) {
	for _, c := range []struct {
		name, old, new string
		want           []string
	}{
		{"toxiproxy url", "toxiproxy: http://127.0.0.1:18474", "toxiproxy: http://", []string{"deployment.toxiproxy"}},
		{"proxy missing", ", proxy: queue-nats-1}", "}", []string{"dependencies[1].proxy", "queue jetstream"}},
		{"proxy without toxiproxy", "  toxiproxy: http://127.0.0.1:18474\n", "", []string{"dependencies[0].proxy", "deployment.toxiproxy is not set"}},
		{"unknown role", "    worker: [worker-a]", "    worker: [worker-a]\n    gateway: [gw]", []string{"deployment.parts", "gateway"}},
		{"router count", "router: [router-1, router-2]", "router: [router-1]", []string{"deployment.parts.router", "1 routers", "endpoints give 2"}},
		{"state store kind", "kind: nats-jetstream", "kind: etcd", []string{"deployment.state_store.kind", "nats-jetstream"}},
		{"monitor missing", `, nats-2: "http://127.0.0.1:18223"}`, "}", []string{"deployment.state_store.monitor", "nats-2"}},
		{"monitor of no part", `nats-2: "http://127.0.0.1:18223"}`, `nats-2: "http://127.0.0.1:18223", nats-9: "http://127.0.0.1:1"}`, []string{"deployment.state_store.monitor.nats-9", "not a part"}},
		{"state store without parts", "    state-store: [nats-1, nats-2]\n", "", []string{"deployment.parts.state-store", "no part"}},
		{"network", "    network: state\n", "    network: \"\"\n", []string{"deployment.state_store.network"}},
		{"region network", "{eu-west: eu-west, us-east: us-east}", "{eu-west: eu-west, ap-south: ap}", []string{"deployment.region_networks.ap-south", "not declared"}},
		{"project", "compose: {project: arcert-deploy}", "compose: {project: \"\"}", []string{"deployment.compose.project"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := twoRouters(withDeployment)
			if !strings.Contains(src, c.old) {
				t.Fatalf("the base record has no %q", c.old)
			}
			_, err := Parse("deployment.yaml", []byte(strings.Replace(src, c.old, c.new, 1)))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
