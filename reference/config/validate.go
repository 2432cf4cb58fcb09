package config

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
)

var (
	namePattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// minKeyLength keeps credentials from being guessable one-letter strings.
const minKeyLength = 8

// validator collects every mistake instead of stopping at the first, so one run shows them all.
type validator struct{ errs []*FieldError }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) name(field, s string) {
	if !namePattern.MatchString(s) {
		v.add(field, "%q is not a name (lower-case letters, digits, '.', '_', '-'; 1 to 63 characters)", s)
	}
}

func (v *validator) addr(field, s string) {
	if s == "" {
		v.add(field, "is required")
		return
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		v.add(field, "%q is not host:port: %v", s, err)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		v.add(field, "%q has no valid port", s)
	}
	_ = host
}

func (v *validator) positive(field string, n int64) {
	if n <= 0 {
		v.add(field, "must be greater than zero, got %d", n)
	}
}

func (c *Config) validate() []*FieldError {
	v := &validator{}
	if c.Runtime.Version == "" {
		v.add("runtime.version", "is required")
	}
	if c.Runtime.Region == "" {
		v.add("runtime.region", "is required")
	}
	v.addr("router.http_listen", c.Router.HTTPListen)
	v.addr("router.grpc_listen", c.Router.GRPCListen)
	v.positive("router.max_body_bytes", c.Router.MaxBodyBytes)
	if c.Router.MaxConnections < 0 {
		v.add("router.max_connections", "must not be negative (0 means the default, 10000)")
	}
	c.validateInflight(v)
	c.validateGC(v)
	if n := c.Router.DrainNotice; n < 0 || n >= c.Router.DrainTimeout {
		v.add("router.drain_notice", "%s must be at least 0 and below router.drain_timeout (%s), which bounds the whole drain", n, c.Router.DrainTimeout)
	}
	if c.Router.AffinitySlack < 0 {
		v.add("router.affinity_slack", "must not be negative")
	}
	keys := map[string]string{}
	claim := func(field, key string) {
		if len(key) < minKeyLength {
			v.add(field, "a credential must be at least %d characters", minKeyLength)
			return
		}
		if prev, dup := keys[key]; dup {
			v.add(field, "this credential is already used at %s; every identity needs its own", prev)
			return
		}
		keys[key] = field
	}
	claim("router.worker_token", c.Router.WorkerToken)
	c.validateRouterLimits(v)
	c.validateOperators(v, claim)
	v.addr("durable.nats_listen", c.Durable.NATSListen)
	v.positive("durable.batch_capacity", int64(c.Durable.BatchCapacity))
	if c.Evidence.MemoryBytes < MinEvidenceMemoryBytes {
		v.add("evidence.memory_bytes", "%d is below the smallest bound, %d bytes", c.Evidence.MemoryBytes, MinEvidenceMemoryBytes)
	}
	v.positive("durable.batch_max_requests", int64(c.Durable.BatchMaxRequests))
	v.positive("durable.batch_concurrency", int64(c.Durable.BatchConcurrency))
	if r := c.Durable.Replicas; r < 1 || r > MaxReplicas {
		v.add("durable.replicas", "%d is outside 1..%d (JetStream keeps a stream on at most %d servers)", r, MaxReplicas, MaxReplicas)
	} else if r > 1 && c.Durable.NATSURL == "" {
		v.add("durable.replicas", "%d replicas need a cluster at durable.nats_url: the embedded server is a single node", r)
	}
	if c.Cache.Listen != "" {
		v.addr("cache.listen", c.Cache.Listen)
		if c.Cache.GlobalBytes == 0 || c.Cache.TenantBytes == 0 {
			v.add("cache", "global_bytes and tenant_bytes must be set when the tier runs")
		}
	}
	if a := c.Artifacts; a.RegistryListen != "" {
		v.addr("artifacts.registry_listen", a.RegistryListen)
	}
	if a := c.Artifacts; a.RequireSignature && a.PublicKeyFile == "" && !a.SeedFixtures {
		v.add("artifacts.public_key_file", "require_signature needs the public key that signs the artifacts")
	}
	if c.Cache.Address != "" {
		v.addr("cache.address", c.Cache.Address)
	}
	classes := c.validateClasses(v)
	c.validateTenants(v, classes, claim)
	models := c.validateModels(v)
	c.validateWorkers(v, models)
	c.validateProviders(v, models, claim)
	c.validateTools(v, claim)
	c.validateFallbacks(v, models)
	c.validateAttestation(v)
	c.validateAutoscale(v)
	for i, f := range c.Features {
		if f == "" {
			v.add(fmt.Sprintf("features[%d]", i), "is empty")
		}
	}
	return v.errs
}

func (c *Config) validateClasses(v *validator) map[string]bool {
	seen := map[string]bool{}
	if len(c.TrafficClasses) == 0 {
		v.add("traffic_classes", "declare at least one traffic class")
	}
	for i, k := range c.TrafficClasses {
		f := fmt.Sprintf("traffic_classes[%d]", i)
		v.name(f+".name", k.Name)
		if seen[k.Name] {
			v.add(f+".name", "traffic class %q is declared twice", k.Name)
		}
		seen[k.Name] = true
		v.positive(f+".queue_capacity", int64(k.QueueCapacity))
		v.positive(f+".deadline", int64(k.Deadline))
		if k.WriteTimeout < 0 {
			v.add(f+".write_timeout", "write_timeout is %s; leave it out for %s or give a positive duration", k.WriteTimeout, DefaultWriteTimeout)
		}
	}
	return seen
}

func (c *Config) validateTenants(v *validator, classes map[string]bool, claim func(field, key string)) {
	if len(c.Tenants) == 0 {
		v.add("tenants", "declare at least one tenant")
	}
	seen := map[string]bool{}
	for i, t := range c.Tenants {
		f := fmt.Sprintf("tenants[%d]", i)
		v.name(f+".name", t.Name)
		if seen[t.Name] {
			v.add(f+".name", "tenant %q is declared twice", t.Name)
		}
		seen[t.Name] = true
		v.positive(f+".quota.requests_per_minute", int64(t.Quota.RequestsPerMinute))
		v.positive(f+".quota.tokens_per_minute", int64(t.Quota.TokensPerMinute))
		v.positive(f+".quota.max_concurrency", int64(t.Quota.MaxConcurrency))
		if t.Weight < 0 {
			v.add(f+".weight", "weight is %d; leave it out for 1 or give at least 1", t.Weight)
		}
		if len(t.DataPolicy.AllowedRegions) == 0 {
			v.add(f+".data_policy.allowed_regions", "list at least one region the tenant's data may go to")
		}
		if len(t.TrafficClasses) == 0 {
			v.add(f+".traffic_classes", "list at least one traffic class")
		}
		allowed := false
		for j, k := range t.TrafficClasses {
			if !classes[k] {
				v.add(fmt.Sprintf("%s.traffic_classes[%d]", f, j), "traffic class %q is not declared under traffic_classes", k)
			}
			allowed = allowed || k == t.DefaultClass
		}
		if len(t.TrafficClasses) > 0 && !allowed {
			v.add(f+".default_class", "%q is not one of the tenant's traffic_classes", t.DefaultClass)
		}
		if len(t.Keys) == 0 {
			v.add(f+".keys", "give the tenant at least one key")
		}
		for j, k := range t.Keys {
			kf := fmt.Sprintf("%s.keys[%d]", f, j)
			claim(kf+".key", k.Key)
			if k.Application == "" {
				v.add(kf+".application", "is required: evidence names the application of every request")
			}
			if k.User == "" {
				v.add(kf+".user", "is required: evidence names the user of every request")
			}
		}
	}
}

func (c *Config) validateModels(v *validator) map[string]Model {
	models := map[string]Model{}
	if len(c.Models) == 0 {
		v.add("models", "declare at least one model")
	}
	for i, m := range c.Models {
		f := fmt.Sprintf("models[%d]", i)
		v.name(f+".name", m.Name)
		if _, dup := models[m.Name]; dup {
			v.add(f+".name", "model %q is declared twice", m.Name)
		}
		models[m.Name] = m
		v.positive(f+".context_length", int64(m.ContextLength))
		v.positive(f+".max_output_tokens", int64(m.MaxOutputTokens))
		if m.MaxOutputTokens > m.ContextLength {
			v.add(f+".max_output_tokens", "%d is more than the context length %d", m.MaxOutputTokens, m.ContextLength)
		}
		if !digestPattern.MatchString(m.ArtifactDigest) {
			v.add(f+".artifact_digest", "%q is not a pinned digest (sha256: and 64 hex digits)", m.ArtifactDigest)
		}
		if m.KVBytesPerToken == 0 {
			v.add(f+".kv_bytes_per_token", "must be greater than zero")
		}
		c.validateProtectedPins(v, f, m)
	}
	return models
}

func (c *Config) validateWorkers(v *validator, models map[string]Model) {
	if len(c.Workers) == 0 {
		v.add("workers", "declare at least one worker")
	}
	c.validateDevices(v, models)
	seen := map[string]bool{}
	for i, w := range c.Workers {
		f := fmt.Sprintf("workers[%d]", i)
		v.name(f+".id", w.ID)
		if seen[w.ID] {
			v.add(f+".id", "worker %q is declared twice", w.ID)
		}
		seen[w.ID] = true
		v.addr(f+".listen", w.Listen)
		if w.Address != "" {
			v.addr(f+".address", w.Address)
		}
		if w.Pool == "" {
			v.add(f+".pool", "is required")
		}
		if len(w.Models) == 0 {
			v.add(f+".models", "list at least one model the worker serves")
		}
		var weights uint64
		for j, name := range w.Models {
			m, ok := models[name]
			if !ok {
				v.add(fmt.Sprintf("%s.models[%d]", f, j), "model %q is not declared under models", name)
				continue
			}
			weights += m.WeightsBytes
		}
		if w.Device.MemoryBytes == 0 {
			v.add(f+".device.memory_bytes", "must be greater than zero")
		}
		if u := w.Device.Utilization; u <= 0 || u > 1 {
			v.add(f+".device.utilization", "must be in (0, 1], got %g", u)
		}
		if float64(weights) >= float64(w.Device.MemoryBytes)*w.Device.Utilization {
			v.add(f+".device.memory_bytes", "%d usable bytes do not hold the models' %d bytes of weights", uint64(float64(w.Device.MemoryBytes)*w.Device.Utilization), weights)
		}
		e := w.Engine
		v.positive(f+".engine.max_batch", int64(e.MaxBatch))
		v.positive(f+".engine.max_waiting", int64(e.MaxWaiting))
		v.positive(f+".engine.block_size", int64(e.BlockSize))
		v.positive(f+".engine.prefix_cache_blocks", int64(e.PrefixCacheBlocks))
		e.validatePrefill(v, f+".engine")
		for name, d := range map[string]int64{"prefill_per_token": int64(e.PrefillPerToken), "decode_step_base": int64(e.DecodeStepBase), "decode_step_per_seq": int64(e.DecodeStepPerSeq)} {
			if d < 0 {
				v.add(f+".engine."+name, "must not be negative")
			}
		}
	}
}
