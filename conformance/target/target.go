// Package target reads target files. A target file is the Runtime Decision Record of the runtime
// under test: where to reach it, who its tenants are and what they may do, its declared
// capacities, quotas and objectives, the versions it pins, its dependencies, the features it
// supports, and the constraint, assumption and trade-off behind each placement decision.
// Certification checks that the runtime behaves as its own record declares.
package target

import (
	"time"

	"github.com/aruntime/arcert/api/link"
)

// APIVersion is the target-file format this package reads.
const APIVersion = "arcert.dev/v1"

// Target is one parsed and validated target file.
type Target struct {
	APIVersion     string         `yaml:"apiVersion"`
	Kind           string         `yaml:"kind"`
	Implementation string         `yaml:"implementation"`
	Endpoints      Endpoints      `yaml:"endpoints"`
	Features       []string       `yaml:"features"`
	Contract       Contract       `yaml:"contract"`
	Pins           Pins           `yaml:"pins"`
	Models         []Model        `yaml:"models"`
	Capacity       Capacity       `yaml:"capacity"`
	TrafficClasses []TrafficClass `yaml:"traffic_classes"`
	Tenants        []Tenant       `yaml:"tenants"`
	Operator       *Credential    `yaml:"operator"`
	Workload       *Credential    `yaml:"workload"`
	Regions        []Region       `yaml:"regions"`
	Dependencies   []Dependency   `yaml:"dependencies"`
	Locations      Locations      `yaml:"locations"`
	Operations     *Operations    `yaml:"operations"`
	Devices        *Devices       `yaml:"devices"`
	Tools          *Tools         `yaml:"tools"`
	Resilience     *Resilience    `yaml:"resilience"`
	Placement      Placement      `yaml:"placement"`
	Confidential   *Confidential  `yaml:"confidential"`
	Deployment     *Deployment    `yaml:"deployment"`

	// Source is the file the target came from; Digest the SHA-256 of its bytes, for reports.
	Source string `yaml:"-"`
	Digest string `yaml:"-"`
}

// Endpoints are where the harness reaches the runtime: HTTP and GRPC are its primary router,
// More the further routers of a deployment that runs several. The harness spreads its requests
// round-robin over every router listed, so a multi-router deployment is certified as its users,
// behind a load balancer, see it; each ledger entry names the router that served it.
type Endpoints struct {
	HTTP string `yaml:"http"`
	GRPC string `yaml:"grpc"`
	// More lists further routers of the same runtime; each gives a gRPC address exactly when the
	// primary does (crossCheck), so every wire is spread over the same routers.
	More []Router `yaml:"more"`
}

// Router is one further router: its HTTP base URL and, when the runtime serves gRPC, its address.
type Router struct {
	HTTP string `yaml:"http"`
	GRPC string `yaml:"grpc"`
}

// HTTPURLs lists the HTTP base URL of every router, the primary first.
func (e Endpoints) HTTPURLs() []string {
	out := []string{e.HTTP}
	for _, r := range e.More {
		out = append(out, r.HTTP)
	}
	return out
}

// GRPCAddrs lists the gRPC address of every router, the primary first; nil when the runtime gives
// none.
func (e Endpoints) GRPCAddrs() []string {
	if e.GRPC == "" {
		return nil
	}
	out := []string{e.GRPC}
	for _, r := range e.More {
		out = append(out, r.GRPC)
	}
	return out
}

// Pins are the versions every worker must report.
type Pins struct {
	RuntimeVersion string `yaml:"runtime_version"`
	PolicyVersion  string `yaml:"policy_version"`
}

// Model is a servable model with its pinned artifact.
type Model struct {
	Name            string `yaml:"name"`
	ArtifactDigest  string `yaml:"artifact_digest"`
	ContextLength   int    `yaml:"context_length"`
	MaxOutputTokens int    `yaml:"max_output_tokens"`
	// Prices are the cost assumption the record makes for this model, in micro-USD per 1,000
	// tokens: the runtime's evidence must bill at them (QUO-4). Zero means not stated.
	PromptPricePer1K     int64 `yaml:"prompt_price_micro_usd_per_1k"`
	CompletionPricePer1K int64 `yaml:"completion_price_micro_usd_per_1k"`

	// maxOutputDefaulted is set when the record states no output limit (see fillDefaults).
	maxOutputDefaulted bool
}

// Capacity is what the runtime declares it can serve at once, measured with its probe request.
type Capacity struct {
	// Concurrency is how many requests run at once across the runtime.
	Concurrency int `yaml:"concurrency"`
	// RequestsPerSecond is the sustained rate of probe requests the runtime declares.
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	// ProbeMaxTokens is max_tokens of the probe request the capacity is stated for.
	ProbeMaxTokens int `yaml:"probe_max_tokens"`
}

// TrafficClass is a class of work with its bound and objectives.
type TrafficClass struct {
	Name       string        `yaml:"name"`
	QueueBound int           `yaml:"queue_bound"`
	Deadline   time.Duration `yaml:"deadline"`
	TTFT       time.Duration `yaml:"ttft_objective"`
	ITL        time.Duration `yaml:"itl_objective"`

	// deadlineDefaulted is set when the record states no deadline (see fillDefaults).
	deadlineDefaulted bool
}

// Tenant is one tenant with a credential the harness may use.
type Tenant struct {
	Name           string     `yaml:"name"`
	Key            string     `yaml:"key"`
	Application    string     `yaml:"application"`
	User           string     `yaml:"user"`
	CostCenter     string     `yaml:"cost_center"`
	DataPolicy     DataPolicy `yaml:"data_policy"`
	Quota          Quota      `yaml:"quota"`
	TrafficClasses []string   `yaml:"traffic_classes"`
	// Tools are the runtime-side tools (Target.Tools) the tenant may use.
	Tools []string `yaml:"tools"`
}

// DataPolicy says where a tenant's data may go.
type DataPolicy struct {
	AllowedRegions   []string `yaml:"allowed_regions"`
	HostedFallback   bool     `yaml:"hosted_fallback"`
	EvidenceRequired bool     `yaml:"evidence_required"`
	// ConfidentialCompute: the tenant may be served only on attested workers.
	ConfidentialCompute bool `yaml:"confidential_compute"`
}

// Quota is a tenant's declared allowance.
type Quota struct {
	RequestsPerMinute int `yaml:"requests_per_minute"`
	TokensPerMinute   int `yaml:"tokens_per_minute"`
	MaxConcurrency    int `yaml:"max_concurrency"`
}

// Credential is a non-tenant identity the harness uses to check separation.
type Credential struct {
	Key string `yaml:"key"`
}

// Region is a region with its pools and the place it falls back to.
type Region struct {
	Name       string   `yaml:"name"`
	Pools      []string `yaml:"pools"`
	FallbackTo []string `yaml:"fallback_to"`
}

// Dependency is one dependency link as the target file declares it: the address the runtime
// dials and the real upstream, so the harness can stand a proxy between them. Its role, name,
// part, dial and upstream are the link.Link every other stage uses (a region link without a part
// names no worker, so worker loss cannot be judged on it).
type Dependency struct {
	link.Link `yaml:",inline"`
	// Observe, for a provider, is a URL the harness may GET to learn what reached the provider
	// (the stand-in's /v1/provider/seen): the proof that a tenant's data never left.
	Observe string `yaml:"observe"`
	// Proxy, in a deployment with its own toxiproxy (Deployment.Toxiproxy), names the proxy
	// already standing on this link; the harness adopts it instead of making one.
	Proxy string `yaml:"proxy"`
}

// Resilience declares what the Resilience profile holds the runtime to.
type Resilience struct {
	// Recovery bounds how long after a fault heals the runtime is back at its steady state;
	// default 15s.
	Recovery time.Duration `yaml:"recovery"`
	// Detection bounds how long the runtime takes to notice a fault and act on it (fail over,
	// refuse by policy); requests started within it may end in any outcome of the contract, but
	// must still end in one, in time. Default 2s.
	Detection time.Duration `yaml:"detection"`
}

// Operations tells the Operations profile how to drive the runtime's control plane through the
// arcert operator contract (v1): PUT {Control}models/{model} {"artifact_digest": D} rolls a model
// out, GET {Control}models/{model}/history lists revisions, POST {Control}models/{model}/rollback
// {"revision": N} rolls back, POST {Control}workers/{id}/replace replaces a worker with a fresh
// instance; only the operator credential may call them.
type Operations struct {
	Control string `yaml:"control"`
	Model   string `yaml:"model"`
	// RolloutDigest is a valid artifact of Model, other than its pin, to roll out.
	RolloutDigest string `yaml:"rollout_digest"`
	// InvalidArtifacts are digests of Model's artifacts every worker must refuse.
	InvalidArtifacts []NamedDigest `yaml:"invalid_artifacts"`
	// Convergence bounds how long every worker may take to apply a change; default 30s.
	Convergence time.Duration `yaml:"convergence"`
	// WorkerCredentials is where the operator reads what reached a worker ({worker} standing for
	// its id as ARuntime-Served-By names it): the fingerprints (first 16 hex digits of the
	// SHA-256) of every credential presented to it, so a certification can show that no tenant's
	// key reaches a worker. Optional.
	WorkerCredentials string `yaml:"worker_credentials"`
	// Protected is a pin of Model whose rollout waits for operators' approval (feature
	// approvals). Optional.
	Protected *ProtectedPin `yaml:"protected"`
}

// NamedDigest is an artifact digest with what is wrong with it.
type NamedDigest struct {
	Name   string `yaml:"name"`
	Digest string `yaml:"digest"`
}

// Locations documents where control, execution, data and evidence live.
type Locations struct {
	Control   string `yaml:"control"`
	Execution string `yaml:"execution"`
	Data      string `yaml:"data"`
	Evidence  string `yaml:"evidence"`
}

// Decision is the record of one placement question.
type Decision struct {
	Constraint string `yaml:"constraint"`
	Assumption string `yaml:"assumption"`
	TradeOff   string `yaml:"trade_off"`
}

// AutoscalingDecision is the autoscaling lag decision, and with feature autoscaling the lag as a
// number SCL-1 holds the runtime to: the seconds from a load step past the model's capacity to
// the first capacity added for it.
type AutoscalingDecision struct {
	Decision        `yaml:",inline"`
	ExpectedSeconds float64 `yaml:"expected_seconds"`
	Model           string  `yaml:"model"`
	Class           string  `yaml:"class"`
}

// Placement answers the guidance's six placement questions.
type Placement struct {
	CapacityAndQuota         Decision            `yaml:"capacity_and_quota"`
	FabricTopology           Decision            `yaml:"fabric_topology"`
	MultiTenancy             Decision            `yaml:"multi_tenancy"`
	AutoscalingLag           AutoscalingDecision `yaml:"autoscaling_lag"`
	CostAttribution          Decision            `yaml:"cost_attribution"`
	ProviderAndRegionFailure Decision            `yaml:"provider_and_region_failure"`
}

// Declares reports whether the target declares feature.
func (t *Target) Declares(feature string) bool {
	for _, f := range t.Features {
		if f == feature {
			return true
		}
	}
	return false
}

// Class returns the traffic class with name.
func (t *Target) Class(name string) (TrafficClass, bool) {
	for _, c := range t.TrafficClasses {
		if c.Name == name {
			return c, true
		}
	}
	return TrafficClass{}, false
}
