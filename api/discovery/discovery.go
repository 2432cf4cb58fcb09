// Package discovery holds the bodies of the contract's discovery and evidence endpoints
// (/v1/aruntime/features, versions, quotas, evidence). The harness reads a runtime only through
// these, so they are part of the contract, not of the reference runtime.
package discovery

import (
	"time"

	"github.com/aruntime/arcert/api/outcome"
)

// Paths of the discovery endpoints.
const (
	PathFeatures = "/v1/aruntime/features"
	PathVersions = "/v1/aruntime/versions"
	PathQuotas   = "/v1/aruntime/quotas"
	PathEvidence = "/v1/aruntime/evidence"
)

// Features is the body of GET /v1/aruntime/features: the conformance features the runtime supports.
type Features struct {
	Implementation string   `json:"implementation"`
	Version        string   `json:"version"`
	Features       []string `json:"features"`
}

// Artifact is one model artifact a worker has applied, pinned by digest.
type Artifact struct {
	Model  string `json:"model"`
	Digest string `json:"digest"`
}

// Device describes one accelerator a worker runs on.
type Device struct {
	UUID             string `json:"uuid"`
	Name             string `json:"name"`
	MemoryTotalBytes uint64 `json:"memory_total_bytes"`
	MemoryUsedBytes  uint64 `json:"memory_used_bytes"`
	Simulated        bool   `json:"simulated"`
	// MemoryFreeBytes, Pressure and Fault are the device's state: see device.go.
	MemoryFreeBytes uint64 `json:"memory_free_bytes,omitempty"`
	Pressure        bool   `json:"pressure,omitempty"`
	Fault           string `json:"fault,omitempty"`
}

// WorkerVersions is what one worker reports it has applied.
type WorkerVersions struct {
	Worker  string `json:"worker"`
	Region  string `json:"region"`
	Pool    string `json:"pool"`
	Healthy bool   `json:"healthy"`
	// HealthReason says why the worker is listed unhealthy (its versions call failed, or the
	// router has it out of rotation: its last failed health poll or call, or the worker's own
	// reason), empty while it is healthy: a harness that waits for a worker to come back, and an
	// operator, can then tell a dead worker from one whose address answers as another. A tenant
	// reads a few words naming no address; an operator also the errors themselves.
	HealthReason   string     `json:"health_reason,omitempty"`
	RuntimeVersion string     `json:"runtime_version"`
	PolicyVersion  string     `json:"policy_version"`
	RoutingVersion string     `json:"routing_version"`
	Artifacts      []Artifact `json:"artifacts"`
	Devices        []Device   `json:"devices"`
	// Instance identifies this run of the worker; a replaced worker reports a new one.
	Instance string `json:"instance,omitempty"`
	// ResidentModels are the models whose weights are on the worker's device now.
	ResidentModels []string `json:"resident_models,omitempty"`
	// Role is "prefill" or "decode" for disaggregated workers, empty for mixed ones.
	Role string `json:"role,omitempty"`
	// L1CapacityBlocks is the worker's L1 prefix-cache capacity now, so a harness can see it
	// shrink under device pressure as the residency policy declares; 0 without an L1.
	L1CapacityBlocks int64 `json:"l1_capacity_blocks,omitempty"`
	// Attestation is the worker's confidential-computing attestation as the router last verified
	// it; absent from a runtime that does not attest.
	Attestation *Attestation `json:"attestation,omitempty"`
}

// Versions is the body of GET /v1/aruntime/versions.
type Versions struct {
	RouterVersion string           `json:"router_version"`
	PolicyVersion string           `json:"policy_version"`
	Workers       []WorkerVersions `json:"workers"`
}

// Quota is one declared limit with what is left of it now. A per-minute quota is a token bucket:
// Remaining is what the caller may spend at once now, at most Burst (which can be far less than
// Limit: a minute's quota is not spendable in one second), and ResetSeconds is how long the bucket
// takes to refill to Burst if the caller spends nothing more. A runtime that states neither
// leaves them zero.
//
// Limit is the declared limit, what the tenant is held to across every router. Remaining, Burst
// and ResetSeconds describe the answering router's bucket or slots: when several routers divide
// the declared limits (router.limits split) they are that router's part, and another router may
// answer differently.
type Quota struct {
	Limit        float64 `json:"limit"`
	Remaining    float64 `json:"remaining"`
	Burst        float64 `json:"burst,omitempty"`
	ResetSeconds float64 `json:"reset_seconds,omitempty"`
}

// Quotas is the body of GET /v1/aruntime/quotas: the caller's own quotas only.
type Quotas struct {
	Tenant            string   `json:"tenant"`
	RequestsPerMinute Quota    `json:"requests_per_minute"`
	TokensPerMinute   Quota    `json:"tokens_per_minute"`
	MaxConcurrency    Quota    `json:"max_concurrency"`
	TrafficClasses    []string `json:"traffic_classes"`
}

// Tokens is the token accounting of an evidence record.
type Tokens struct {
	Prompt     int `json:"prompt"`
	Completion int `json:"completion"`
	Cached     int `json:"cached"`
}

// Record is one evidence record: who asked, what served it, under which versions, how it ended
// and what it cost. Records are hash-chained: Hash covers every other field including PrevHash.
type Record struct {
	Seq          uint64    `json:"seq"`
	RequestID    string    `json:"request_id"`
	Time         time.Time `json:"time"`
	Tenant       string    `json:"tenant"`
	Application  string    `json:"application"`
	User         string    `json:"user"`
	ClientUser   string    `json:"client_user,omitempty"`
	TrafficClass string    `json:"traffic_class"`
	Model        string    `json:"model"`
	Deployment   string    `json:"deployment"`
	// Attestation is the digest of the attestation of the worker that served a request of a
	// tenant requiring confidential compute (the digest the versions listing gives that worker).
	Attestation    string           `json:"attestation,omitempty"`
	ArtifactDigest string           `json:"artifact_digest"`
	PolicyVersion  string           `json:"policy_version"`
	ServedBy       outcome.ServedBy `json:"served_by"`
	Outcome        outcome.Class    `json:"outcome"`
	Reason         outcome.Reason   `json:"reason"`
	Tokens         Tokens           `json:"tokens"`
	// CacheTier is the tier that served the cached prompt tokens: "l1", "l2", or empty.
	CacheTier    string  `json:"cache_tier,omitempty"`
	CostMicroUSD int64   `json:"cost_micro_usd"`
	CostCenter   string  `json:"cost_center"`
	TraceID      string  `json:"trace_id"`
	DurationMS   float64 `json:"duration_ms"`
	// ToolCalls are the tool calls the request made (tools.go); empty for a request without.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	PrevHash  string     `json:"prev_hash"`
	Hash      string     `json:"hash"`
}

// EvidenceList is the body of GET /v1/aruntime/evidence. An operator pages with ?since=SEQ (the
// records after SEQ, exclusive) and ?limit=N; a page may hold fewer than N, and an empty page ends
// the listing.
type EvidenceList struct {
	Records []Record `json:"records"`
	// TruncatedBefore, when set, says the store dropped every record before this Seq to stay
	// within its bound (the runtime's in-memory development mode): evidence older than that is
	// gone, and the chain a reader sees starts there. A durable store never sets it.
	TruncatedBefore uint64 `json:"truncated_before,omitempty"`
}
