package main

import (
	"strings"
	"time"

	"github.com/aruntime/arcert/reference/config"
)

const (
	benchWorker = "bench-worker"
	benchKey    = "bench-tenant-key"
	benchModel  = "bench-model"
)

// benchConfig is a runtime whose limits are far above the benchmark's load, so that admission
// never sheds and the executor never waits: what is measured is the hop, not a queue.
func benchConfig() *config.Config {
	cfg := &config.Config{
		Source:  "arbench",
		Runtime: config.Runtime{Version: "bench", PolicyVersion: "bench", RoutingVersion: "bench", Region: "local", Deployment: "bench"},
		Router: config.Router{
			HTTPListen: "127.0.0.1:0", GRPCListen: "127.0.0.1:0", MaxBodyBytes: 1 << 20,
			DrainTimeout: time.Second, HealthInterval: 100 * time.Millisecond, AffinitySlack: 4,
			RetryAfter: time.Second, WorkerToken: "bench-worker-token",
			// The default bound (the configuration is built here, so defaults are not applied).
			MaxConnections: config.DefaultMaxConnections,
		},
		TrafficClasses: []config.TrafficClass{{Name: "interactive", Priority: 1, QueueCapacity: 8192, Deadline: 30 * time.Second}},
		Tenants: []config.Tenant{{
			Name: "bench", CostCenter: "bench",
			DataPolicy:     config.DataPolicy{AllowedRegions: []string{"local"}},
			Quota:          config.Quota{RequestsPerMinute: 100_000_000, TokensPerMinute: 1_000_000_000, MaxConcurrency: 8192},
			TrafficClasses: []string{"interactive"}, DefaultClass: "interactive",
			Keys: []config.APIKey{{Key: benchKey, Application: "arbench", User: "arbench"}},
		}},
		Models: []config.Model{{
			Name: benchModel, ContextLength: 4096, MaxOutputTokens: 256,
			ArtifactDigest: "sha256:" + strings.Repeat("0", 64), WeightsBytes: 1 << 30, KVBytesPerToken: 1024,
		}},
		Workers: []config.Worker{{
			ID: benchWorker, Listen: "127.0.0.1:0", Region: "local", Pool: "bench", Models: []string{benchModel},
			Device: config.DeviceSpec{Name: "bench", MemoryBytes: 64 << 30, Utilization: 0.9},
			// Zero cost: every step is immediate, so latency is the path's own.
			Engine: config.EngineSpec{MaxBatch: 1024, MaxWaiting: 4096, BlockSize: 16, PrefixCacheBlocks: 1024},
		}},
	}
	return cfg
}
