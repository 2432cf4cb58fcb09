package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
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

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Parse decodes, defaults and validates a configuration; name is used in messages.
func Parse(name string, data []byte) (*Config, error) {
	if len(data) > maxConfigBytes {
		return nil, &FieldError{File: name, Msg: fmt.Sprintf("file is %d bytes, more than the %d a configuration may be", len(data), maxConfigBytes)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	if len(root.Content) == 0 {
		return nil, &FieldError{File: name, Msg: "file is empty"}
	}
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, yamlError(name, err)
	}
	cfg.Source = name
	cfg.applyDefaults()
	if errs := append(cfg.resolveKeys(os.LookupEnv), cfg.validate()...); len(errs) > 0 {
		located := make([]error, 0, len(errs))
		for _, e := range errs {
			e.File = name
			e.Line = lineOf(&root, e.Field)
			located = append(located, e)
		}
		return nil, errors.Join(located...)
	}
	return &cfg, nil
}

// yamlError turns the YAML library's "line N: msg" errors into "file:N: msg" ones.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]error, 0, len(msgs))
	for _, m := range msgs {
		fe := &FieldError{File: name, Msg: strings.TrimPrefix(m, "yaml: ")}
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
			fe.Line, _ = strconv.Atoi(sub[1])
			fe.Msg = sub[2]
		}
		fe.Msg = strings.ReplaceAll(fe.Msg, "config.", "")
		out = append(out, fe)
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
	DefaultUtilization    = 0.9
	DefaultNATSListen     = "127.0.0.1:0"
	DefaultBatchCapacity  = 10000
	DefaultBatchRequests  = 1000
	DefaultBatchWorkers   = 8
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
	if c.Artifacts.RepoPrefix == "" {
		c.Artifacts.RepoPrefix = "models/"
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
	}
}

// lineOf finds the line of a field path such as "tenants[1].keys[0].key" in the YAML tree, falling
// back to the nearest enclosing node that exists.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, part := range strings.Split(path, ".") {
		if part == "" {
			continue
		}
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			key = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		next := mapValue(n, key)
		if next == nil {
			return line
		}
		n, line = next, next.Line
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
