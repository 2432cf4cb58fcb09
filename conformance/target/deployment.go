package target

// Deployment declares a runtime the harness may act on as a whole deployment rather than only
// through its endpoints: a Docker Compose project whose containers it can kill, stop, pause and
// disconnect, a toxiproxy server already standing on every link (whose proxies the harness adopts
// by name rather than makes), and, for a clustered state store, how to find the node that leads a
// stream and which network the routers reach it over. Without it, a remote target gets link
// faults from a toxiproxy the harness starts itself and no node faults.
type Deployment struct {
	// Compose names the Compose project whose containers are the runtime's parts.
	Compose *ComposeProject `yaml:"compose"`
	// Toxiproxy is the API URL (http://host:port) of the deployment's own toxiproxy server; each
	// dependency then names its proxy (Dependency.Proxy) and the harness adopts it.
	Toxiproxy string `yaml:"toxiproxy"`
	// Parts maps a node role (router, state-store, worker, evidence, cache, registry, provider)
	// to the Compose services of that role. Routers are listed in the order of the endpoints:
	// the i-th router serves Endpoints' i-th HTTP URL and gRPC address.
	Parts map[string][]string `yaml:"parts"`
	// StateStore describes a clustered state store (role state-store), when the runtime has one.
	StateStore *StateStore `yaml:"state_store"`
	// RegionNetworks maps a region (Regions' names) to the network its workers are on: cutting a
	// region's network disconnects each of its workers from it.
	RegionNetworks map[string]string `yaml:"region_networks"`
}

// ComposeProject is a Docker Compose project on the harness's Docker engine.
type ComposeProject struct {
	// Project is the Compose project name (the com.docker.compose.project label).
	Project string `yaml:"project"`
}

// StateStore is the runtime's clustered durable store as the node-loss and partition specs see it.
type StateStore struct {
	// Kind is the store's kind; "nats-jetstream" is the one the harness knows how to ask which
	// node leads a stream.
	Kind string `yaml:"kind"`
	// Monitor maps each state-store part to its monitoring URL on the harness's host (NATS:
	// http://127.0.0.1:PORT, the server's HTTP monitoring port, where /jsz names stream leaders).
	Monitor map[string]string `yaml:"monitor"`
	// EvidenceStream and QueueStream name the streams that hold the evidence chain and the batch
	// queue; node loss kills the evidence stream's leader.
	EvidenceStream string `yaml:"evidence_stream"`
	QueueStream    string `yaml:"queue_stream"`
	// Network is the network the routers reach the state store over: a partition disconnects one
	// router from it while the router stays on its other networks and keeps serving.
	Network string `yaml:"network"`
}

// Node roles of a deployment's parts beyond the router and worker.
const (
	// PartStateStore is a node of the clustered state store.
	PartStateStore = "state-store"
)
