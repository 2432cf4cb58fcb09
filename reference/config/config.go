// Package config is the reference runtime's configuration: one YAML file that names every tenant,
// credential, traffic class, model and worker, so that capacity and quota are explicit rather than
// discovered under load. Load validates it and names the file, line and field of every mistake.
package config

import "time"

// Config is the whole runtime configuration.
type Config struct {
	Runtime        Runtime        `yaml:"runtime"`
	Router         Router         `yaml:"router"`
	Operators      []Operator     `yaml:"operators"`
	Tenants        []Tenant       `yaml:"tenants"`
	TrafficClasses []TrafficClass `yaml:"traffic_classes"`
	Models         []Model        `yaml:"models"`
	Workers        []Worker       `yaml:"workers"`
	Durable        Durable        `yaml:"durable"`
	Evidence       Evidence       `yaml:"evidence"`
	Cache          Cache          `yaml:"cache"`
	Artifacts      Artifacts      `yaml:"artifacts"`
	// Providers are hosted upstreams the router may fall back to, per the tenant's data policy.
	Providers []Provider `yaml:"providers"`
	// Features are the conformance features this runtime declares at /v1/aruntime/features.
	Features []string `yaml:"features"`
	// Disaggregation sends long prompts through the prefill workers (role prefill) first.
	Disaggregation Disaggregation `yaml:"disaggregation"`
	// Attestation is what a worker must present before a confidential tenant is routed to it.
	Attestation Attestation `yaml:"attestation"`
	// Tools are the runtime-side tools the router has the tool adapter execute (tools.go).
	Tools Tools `yaml:"tools"`
	// Autoscale is the autoscaled worker group (autoscale.go); zero runs none.
	Autoscale Autoscale `yaml:"autoscale"`

	// Source is the file the configuration came from, for messages.
	Source string `yaml:"-"`
}

// Runtime names this deployment and the versions it runs, so evidence can pin them.
type Runtime struct {
	Version        string `yaml:"version"`
	PolicyVersion  string `yaml:"policy_version"`
	RoutingVersion string `yaml:"routing_version"`
	Region         string `yaml:"region"`
	Deployment     string `yaml:"deployment"`
	// GCPercent and MemoryLimitBytes tune the Go garbage collector of the process that runs
	// this configuration (reference/config/gc.go); zero leaves Go's defaults (and GOGC, GOMEMLIMIT),
	// or, under `arcert --embedded`, the harness's own setting (internal/harnessgc: GOGC=400).
	GCPercent        int   `yaml:"gc_percent"`
	MemoryLimitBytes int64 `yaml:"memory_limit_bytes"`
}

// Router configures the front door.
type Router struct {
	HTTPListen string `yaml:"http_listen"`
	GRPCListen string `yaml:"grpc_listen"`
	// MaxBodyBytes bounds a request body; larger bodies are rejected before they are read whole.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// DrainTimeout is how long shutdown waits for in-flight work before cutting it.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// DrainNotice is how long shutdown keeps answering (shedding new work with reason draining,
	// /healthz 503) before it closes its listeners, even with nothing in flight: the time a load
	// balancer polling readiness needs to stop sending here. 0 (the default) closes as soon as
	// running work has finished, right for a single router with no balancer in front.
	DrainNotice time.Duration `yaml:"drain_notice"`
	// HealthInterval is how often the router asks each worker for its health.
	HealthInterval time.Duration `yaml:"health_interval"`
	// WorkerToken is the credential routers and workers use between themselves. It is never a
	// tenant credential: the router refuses it on tenant endpoints.
	WorkerToken string `yaml:"worker_token"`
	// AffinitySlack is how many more outstanding requests the prefix-affine worker may have than
	// the least loaded one before affinity gives way to load.
	AffinitySlack int `yaml:"affinity_slack"`
	// RetryAfter is the Retry-After a shed response advertises.
	RetryAfter time.Duration `yaml:"retry_after"`
	// MaxConnections bounds the HTTP connections the router holds open; past it a new
	// connection's request is answered 503 shed/capacity at once instead of waiting in the
	// accept backlog until its client gives up (reference/connlimit).
	MaxConnections int `yaml:"max_connections"`
	// MaxInflight bounds the completions the router works on at once, over both doors; past it
	// a request is answered 503 shed/capacity with Retry-After before its body is read
	// (reference/config/inflight.go has the default).
	MaxInflight int `yaml:"max_inflight"`
	// Limits is how a router enforces the declared limits (admission slots, class queue
	// bounds, tenant concurrency and quotas) when several routers serve one runtime: LimitsLocal
	// (the default) enforces all of each in every router, right when there is one; LimitsSplit
	// divides each among the routers alive, learned over durable.nats_url (reference/peers), so
	// that together they admit what was declared and not that times the routers.
	Limits string `yaml:"limits"`
	// ID names this router among its peers under split limits, in logs and the peers bucket;
	// empty uses the host name.
	ID string `yaml:"id"`
}

// The values of router.limits.
const (
	LimitsLocal = "local"
	LimitsSplit = "split"
)

// Evidence configures the evidence store of the runtime without JetStream (the in-memory
// development mode); the durable mode keeps its records in JetStream and ignores it.
type Evidence struct {
	// MemoryBytes bounds the in-memory store: past it the oldest records are dropped, counted in
	// aruntime_evidence_dropped_total and reported by the evidence endpoint as truncated_before,
	// so that no one mistakes the development mode for durable evidence.
	MemoryBytes uint64 `yaml:"memory_bytes"`
}

// Durable configures the JetStream engine behind the batch queue, evidence and control plane.
type Durable struct {
	// NATSURL is an external NATS cluster; empty embeds a server (in `aruntime up`) listening on
	// NATSListen with its store under the data directory.
	NATSURL    string `yaml:"nats_url"`
	NATSListen string `yaml:"nats_listen"`
	// QueueURL and EvidenceURL, when set, are the addresses the router dials for the batch queue
	// and for evidence, instead of NATSURL (or the embedded server). They reach the same JetStream
	// by other routes, so that an outage of one link cuts the queue or the evidence service alone.
	QueueURL    string `yaml:"queue_nats_url"`
	EvidenceURL string `yaml:"evidence_nats_url"`
	// BatchCapacity bounds the batch queue in jobs; beyond it a batch is shed with queue_full.
	BatchCapacity int `yaml:"batch_capacity"`
	// BatchMaxRequests bounds one batch.
	BatchMaxRequests int `yaml:"batch_max_requests"`
	// BatchConcurrency is how many queued jobs the router runs at once.
	BatchConcurrency int `yaml:"batch_concurrency"`
	// Replicas is how many JetStream servers keep each stream and key-value bucket the runtime
	// creates (batch queue, evidence, control plane): 1 (the default) for the embedded server,
	// 3 on a three-node cluster, where a write is acknowledged once a quorum (2 of 3) stored it,
	// so the loss of one server loses nothing acknowledged. At most 5, JetStream's limit.
	Replicas int `yaml:"replicas"`
}

// Cache configures the shared L2 cache tier behind the workers' L1 prefix caches.
type Cache struct {
	// Listen is where `aruntime up` or `aruntime cache` serves the tier; empty runs no tier.
	Listen string `yaml:"listen"`
	// Address is what workers dial; empty means Listen (as the tier really got it, in `up`).
	Address string `yaml:"address"`
	// GlobalBytes bounds the whole tier; TenantBytes each tenant's share (LRU within it).
	GlobalBytes uint64 `yaml:"global_bytes"`
	TenantBytes uint64 `yaml:"tenant_bytes"`
}

// Artifacts says where workers pull model artifacts from and what they accept.
type Artifacts struct {
	// RegistryListen runs the in-process OCI registry of `aruntime up` here (its storage under the
	// data directory); empty runs none.
	RegistryListen string `yaml:"registry_listen"`
	// Registry is the host:port workers pull from; empty means the in-process one.
	Registry string `yaml:"registry"`
	// RepoPrefix is prepended to a model's name to form its repository.
	RepoPrefix string `yaml:"repo_prefix"`
	// RequireSignature refuses an artifact without a valid signature by PublicKeyFile's key.
	RequireSignature bool   `yaml:"require_signature"`
	PublicKeyFile    string `yaml:"public_key_file"`
	// PlainHTTP says the registry speaks plain HTTP, as one on a private network does (the
	// containerized deployment's); otherwise only a loopback registry is spoken to without TLS.
	PlainHTTP bool `yaml:"plain_http"`
	// SeedFixtures pushes the deterministic fixture artifacts into the in-process registry at
	// start, so the embedded default has artifacts to serve, roll out and refuse.
	SeedFixtures bool `yaml:"seed_fixtures"`
}

// Operator is a human or automation that may call operator APIs; never a tenant.
type Operator struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
	// MoreKeys are further credentials of the same operator (a key being rotated in, a second
	// tool): each authenticates as Name, so its approval of a protected rollout is Name's.
	MoreKeys []string `yaml:"more_keys"`
}

// Tenant is one customer of the shared runtime.
type Tenant struct {
	Name       string     `yaml:"name"`
	CostCenter string     `yaml:"cost_center"`
	DataPolicy DataPolicy `yaml:"data_policy"`
	Quota      Quota      `yaml:"quota"`
	// TrafficClasses the tenant's keys may use; DefaultClass is used when a request names none.
	TrafficClasses []string `yaml:"traffic_classes"`
	DefaultClass   string   `yaml:"default_class"`
	Keys           []APIKey `yaml:"keys"`
	// Weight is the tenant's share of a traffic class while other tenants wait in it: slots and
	// queue places are divided among the waiting tenants in proportion to their weights, so one
	// tenant's flood queues behind itself. Optional; 0 means 1, every tenant equal.
	Weight int `yaml:"weight"`
	// Tools are the runtime-side tools (tools.served) the tenant's requests may have executed;
	// naming another is refused with tool_not_allowed.
	Tools []string `yaml:"tools"`
}

// DataPolicy says where a tenant's data may go.
type DataPolicy struct {
	AllowedRegions   []string `yaml:"allowed_regions"`
	HostedFallback   bool     `yaml:"hosted_fallback"`
	EvidenceRequired bool     `yaml:"evidence_required"`
	// ConfidentialCompute keeps the tenant on attested workers only: never an unattested worker,
	// region or hosted provider, not even in failover; refused (policy_forbids_fallback) instead.
	ConfidentialCompute bool `yaml:"confidential_compute"`
}

// Quota is a tenant's declared allowance; the router enforces exactly this.
type Quota struct {
	RequestsPerMinute int `yaml:"requests_per_minute"`
	TokensPerMinute   int `yaml:"tokens_per_minute"`
	MaxConcurrency    int `yaml:"max_concurrency"`
}

// APIKey binds a credential to a tenant, an application and an end user.
type APIKey struct {
	Key         string `yaml:"key"`
	Application string `yaml:"application"`
	User        string `yaml:"user"`
}

// TrafficClass is a class of work with its own bounded queue, priority and objectives.
type TrafficClass struct {
	Name string `yaml:"name"`
	// Priority orders classes when a worker slot frees up: higher goes first.
	Priority int `yaml:"priority"`
	// QueueCapacity bounds the class's admission queue; beyond it work is shed at once.
	QueueCapacity int           `yaml:"queue_capacity"`
	Deadline      time.Duration `yaml:"deadline"`
	TTFTObjective time.Duration `yaml:"ttft_objective"`
	ITLObjective  time.Duration `yaml:"itl_objective"`
	// WriteTimeout bounds how long one write of a streamed response may wait for a client that
	// does not read. Past it the stream ends failed/client_too_slow and its worker slot is freed,
	// so a slow reader cannot hold a slot until the deadline. Optional; 0 means
	// DefaultWriteTimeout.
	WriteTimeout time.Duration `yaml:"write_timeout"`
}

// DefaultWriteTimeout is a class's WriteTimeout when it declares none: a reader that stalls a
// few seconds is gone for any interactive purpose, and a few seconds ride out a network hiccup.
const DefaultWriteTimeout = 3 * time.Second

// OutputWriteTimeout is WriteTimeout with its default applied.
func (k TrafficClass) OutputWriteTimeout() time.Duration {
	if k.WriteTimeout == 0 {
		return DefaultWriteTimeout
	}
	return k.WriteTimeout
}

// Model is one servable model and its pinned artifact.
type Model struct {
	Name            string `yaml:"name"`
	ContextLength   int    `yaml:"context_length"`
	MaxOutputTokens int    `yaml:"max_output_tokens"`
	ArtifactDigest  string `yaml:"artifact_digest"`
	WeightsBytes    uint64 `yaml:"weights_bytes"`
	KVBytesPerToken uint64 `yaml:"kv_bytes_per_token"`
	// Prices in micro-USD per 1,000 tokens, for cost attribution in evidence.
	PromptPricePer1K     int64 `yaml:"prompt_price_micro_usd_per_1k"`
	CompletionPricePer1K int64 `yaml:"completion_price_micro_usd_per_1k"`
	// Fallback names a model served instead when no place the tenant allows can serve this one:
	// the last resort, answered as degraded/fallback_model. Only one step is taken.
	Fallback string `yaml:"fallback"`
	// ProtectedPins are digests of this model that a rollout may reach only once enough distinct
	// operators have approved it: the versions whose release is a decision, not a deploy step.
	ProtectedPins []ProtectedPin `yaml:"protected_pins"`
}

// ProtectedPin is one digest a rollout may not reach without Approvals distinct operators'
// approval, so that no single credential (nor a tenant's or a workload's) can release it.
type ProtectedPin struct {
	Digest string `yaml:"digest"`
	// Approvals is how many distinct operators must approve; at least 1, at most the operators
	// declared, so the rule can always be met.
	Approvals int `yaml:"approvals"`
}

// Tenant returns the tenant with the given name.
func (c *Config) Tenant(name string) (Tenant, bool) {
	for _, t := range c.Tenants {
		if t.Name == name {
			return t, true
		}
	}
	return Tenant{}, false
}

// Class returns the traffic class with the given name.
func (c *Config) Class(name string) (TrafficClass, bool) {
	for _, k := range c.TrafficClasses {
		if k.Name == name {
			return k, true
		}
	}
	return TrafficClass{}, false
}

// Model returns the model with the given name.
func (c *Config) Model(name string) (Model, bool) {
	for _, m := range c.Models {
		if m.Name == name {
			return m, true
		}
	}
	return Model{}, false
}

// Worker returns the worker with the given id.
func (c *Config) Worker(id string) (Worker, bool) {
	for _, w := range c.Workers {
		if w.ID == id {
			return w, true
		}
	}
	return Worker{}, false
}
