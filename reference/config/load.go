package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/aruntime/arcert/internal/yamlpos"
)

// ErrInvalid is wrapped by every validation error, so callers can tell bad input from I/O trouble.
var ErrInvalid = errors.New("config: invalid")

// FieldError is one mistake in a configuration file, located by line and field path.
type FieldError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// Unwrap makes every FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Load reads, defaults and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// maxConfigBytes bounds what Parse reads; a runtime configuration is a few kilobytes.
const maxConfigBytes = 4 << 20

// Parse decodes, defaults and validates a configuration; name is used in messages.
func Parse(name string, data []byte) (*Config, error) {
	if len(data) > maxConfigBytes {
		return nil, &FieldError{File: name, Msg: fmt.Sprintf("file is %d bytes, more than the %d a configuration may be", len(data), maxConfigBytes)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err, yamlpos.Source{Data: data})
	}
	if len(root.Content) == 0 {
		return nil, &FieldError{File: name, Msg: "file is empty"}
	}
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, yamlError(name, err, yamlpos.Source{Data: data, Root: &root, Type: reflect.TypeFor[Config]()})
	}
	cfg.Source = name
	cfg.applyDefaults()
	if errs := append(cfg.resolveKeys(os.LookupEnv), cfg.validate()...); len(errs) > 0 {
		shown, omitted := yamlpos.Capped(len(errs))
		located := make([]error, 0, shown+1)
		for _, e := range errs[:shown] {
			e.File = name
			e.Line = yamlpos.Line(&root, e.Field)
			located = append(located, e)
		}
		if omitted > 0 {
			located = append(located, &FieldError{File: name, Msg: fmt.Sprintf("and %d more mistakes", omitted)})
		}
		return nil, errors.Join(located...)
	}
	return &cfg, nil
}

// yamlError turns the YAML library's errors into "file:N: field: msg" ones, each once.
func yamlError(name string, err error, src yamlpos.Source) error {
	msgs := yamlpos.Messages(err, src)
	out := make([]error, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, &FieldError{File: name, Line: m.Line, Field: m.Field, Msg: m.Text})
	}
	return errors.Join(out...)
}

// Defaults a configuration gets where it is silent. Each is documented in README.md.
const (
	DefaultMaxBodyBytes   = 1 << 20
	DefaultDrainTimeout   = 10 * time.Second
	DefaultHealthInterval = 500 * time.Millisecond
	DefaultAffinitySlack  = 4
	DefaultRetryAfter     = time.Second
	// DefaultMaxConnections holds about 10,000 idle keep-alive connections (a few tens of KiB
	// each) before new ones are shed: far beyond what the reference's capacity serves at once.
	DefaultMaxConnections = 10000
	DefaultUtilization    = 0.9
	DefaultNATSListen     = "127.0.0.1:0"
	DefaultBatchCapacity  = 10000
	DefaultBatchRequests  = 1000
	DefaultBatchWorkers   = 8
	// MaxReplicas is JetStream's own limit on a stream's replicas.
	MaxReplicas = 5
	// DefaultEvidenceMemoryBytes keeps about 90,000 records of the in-memory evidence store
	// (roughly 700 bytes each): a certification run's worth, in a process that stays small.
	DefaultEvidenceMemoryBytes = 64 << 20
	// MinEvidenceMemoryBytes is the smallest in-memory evidence bound: room for a few hundred
	// records, so that a request's record is still there when its client asks for it.
	MinEvidenceMemoryBytes = 256 << 10
)

func (c *Config) applyDefaults() {
	r := &c.Router
	if r.MaxBodyBytes == 0 {
		r.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if r.DrainTimeout == 0 {
		r.DrainTimeout = DefaultDrainTimeout
	}
	if r.HealthInterval == 0 {
		r.HealthInterval = DefaultHealthInterval
	}
	if r.AffinitySlack == 0 {
		r.AffinitySlack = DefaultAffinitySlack
	}
	if r.RetryAfter == 0 {
		r.RetryAfter = DefaultRetryAfter
	}
	if r.MaxConnections == 0 {
		r.MaxConnections = DefaultMaxConnections
	}
	if r.Limits == "" {
		r.Limits = LimitsLocal
	}

	if c.Artifacts.RepoPrefix == "" {
		c.Artifacts.RepoPrefix = "models/"
	}
	if c.Evidence.MemoryBytes == 0 {
		c.Evidence.MemoryBytes = DefaultEvidenceMemoryBytes
	}
	d := &c.Durable
	if d.NATSListen == "" {
		d.NATSListen = DefaultNATSListen
	}
	if d.BatchCapacity == 0 {
		d.BatchCapacity = DefaultBatchCapacity
	}
	if d.BatchMaxRequests == 0 {
		d.BatchMaxRequests = DefaultBatchRequests
	}
	if d.BatchConcurrency == 0 {
		d.BatchConcurrency = DefaultBatchWorkers
	}
	if d.Replicas == 0 {
		d.Replicas = 1
	}
	if a := &c.Autoscale; a.Enabled() && a.Interval == 0 {
		a.Interval = r.HealthInterval
	}
	if c.Runtime.Deployment == "" {
		c.Runtime.Deployment = "default"
	}
	for i := range c.Tenants {
		t := &c.Tenants[i]
		if t.DefaultClass == "" && len(t.TrafficClasses) > 0 {
			t.DefaultClass = t.TrafficClasses[0]
		}
		if t.CostCenter == "" {
			t.CostCenter = t.Name
		}
	}
	for i := range c.Providers {
		if c.Providers[i].MaxConcurrency == 0 {
			c.Providers[i].MaxConcurrency = DefaultProviderConcurrency
		}
	}
	for i := range c.Workers {
		w := &c.Workers[i]
		if w.Region == "" {
			w.Region = c.Runtime.Region
		}
		if w.Device.Utilization == 0 {
			w.Device.Utilization = DefaultUtilization
		}
		if w.Engine.MaxWaiting == 0 {
			w.Engine.MaxWaiting = 4 * w.Engine.MaxBatch
		}
		w.applyDeviceDefaults()
		w.Engine.applyPrefillDefaults()
	}
	if r.MaxInflight == 0 { // last: it counts the workers' defaults
		r.MaxInflight = c.DefaultMaxInflight()
	}
}
