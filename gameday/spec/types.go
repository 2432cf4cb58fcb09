// Package spec reads game-day scenario files: YAML documents of kind GameDay that say which
// target to exercise, the steady-state hypothesis, the load, the phases with what each expects,
// the faults on their schedule and the abort rules. Parse and Load check a file on its own (the
// JSON Schema, then the rules a schema cannot say) and report every mistake as
// FILE:LINE: field: message; File.Plan compiles a checked file against a target file into the
// chaos/scenario Plan the engine runs, resolving tenants, classes and dependency roles and
// sizing the load from the target's declared capacity.
package spec

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// APIVersion and Kind are what a scenario file's header must say.
const (
	APIVersion = "arcert.dev/v1"
	Kind       = "GameDay"
)

// File is one parsed and checked scenario file.
type File struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   Metadata `yaml:"metadata"`
	Spec       Scenario `yaml:"spec"`

	// Source is the name the file was parsed under (its path for Load): errors and relative
	// target paths are resolved from it.
	Source string `yaml:"-"`
	// root is the file's node tree, kept so that Plan can report its mistakes by line.
	root *yaml.Node
}

// Metadata names and explains the scenario.
type Metadata struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
}

// Scenario is the spec section: the scenario itself.
type Scenario struct {
	Target      TargetRef     `yaml:"target"`
	Seed        int64         `yaml:"seed"`
	SteadyState SteadyState   `yaml:"steadyState"`
	Load        []TenantLoad  `yaml:"load"`
	Phases      []Phase       `yaml:"phases"`
	Faults      []Fault       `yaml:"faults"`
	Abort       Abort         `yaml:"abort"`
	Recovery    time.Duration `yaml:"recovery"`
}

// TargetRef says which runtime the day exercises: a target file (relative to the scenario file),
// the embedded reference runtime or the containerized one. Exactly one is set; the command
// line may override it.
type TargetRef struct {
	File       string `yaml:"file"`
	Embedded   bool   `yaml:"embedded"`
	Containers bool   `yaml:"containers"`
}

// SteadyState is the hypothesis checked before the first phase and after rollback: per tenant,
// Probes probes in a row within Within, with the tolerances each tenant states.
type SteadyState struct {
	Probes  int            `yaml:"probes"`
	Within  time.Duration  `yaml:"within"`
	Tenants []SteadyTenant `yaml:"tenants"`
}

// SteadyTenant is one tenant's tolerances in the steady state.
type SteadyTenant struct {
	Tenant string `yaml:"tenant"`
	Class  string `yaml:"class"`
	// MinServed is the share of probes that must be served; absent means all of them.
	MinServed *float64 `yaml:"minServed"`
	P90TTFT   TTFT     `yaml:"p90TTFT"`
}

// TTFT is a bound on the p90 time to first token: a duration, or the traffic class's declared
// ttft_objective (written classObjective), resolved against the target by Plan.
type TTFT struct {
	Duration       time.Duration
	ClassObjective bool
}

// ClassObjectiveWord is how a file asks for the class's declared TTFT objective.
const ClassObjectiveWord = "classObjective"

// UnmarshalYAML reads a duration string or the word classObjective.
func (t *TTFT) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Value == ClassObjectiveWord {
		*t = TTFT{ClassObjective: true}
		return nil
	}
	var d time.Duration
	if err := n.Decode(&d); err != nil {
		return err
	}
	*t = TTFT{Duration: d}
	return nil
}

// IsZero reports whether no bound is set.
func (t TTFT) IsZero() bool { return t == TTFT{} }

// TenantLoad is open-loop load of one tenant in one traffic class: an absolute Rate in requests per
// second, or a CapacityShare of the target's declared capacity.requests_per_second.
type TenantLoad struct {
	Tenant        string   `yaml:"tenant"`
	Class         string   `yaml:"class"`
	Rate          *float64 `yaml:"rate"`
	CapacityShare *float64 `yaml:"capacityShare"`
	// Ramp raises the rate linearly from 0 over this long: once, at the start of the day, for
	// spec.load; at the start of its phase for a phase's own load.
	Ramp time.Duration `yaml:"ramp"`
}

// Phase is a stretch of the day with its load (spec.load unless it says otherwise) and what it
// expects of the requests that start in it.
type Phase struct {
	Name     string        `yaml:"name"`
	Duration time.Duration `yaml:"duration"`
	Load     []TenantLoad  `yaml:"load"`
	Expect   []Expect      `yaml:"expect"`
}

// Expect is one expectation of a phase, on one tenant (every tenant when empty) in one class
// (every class when empty).
type Expect struct {
	Name      string   `yaml:"name"`
	Tenant    string   `yaml:"tenant"`
	Class     string   `yaml:"class"`
	MinServed float64  `yaml:"minServed"`
	Allowed   []string `yaml:"allowed"`
	// PolicyKept forbids served_by regions and providers: listed, or (true) every region and
	// hosted provider the tenant's data policy in the target forbids.
	PolicyKept *PolicyKept `yaml:"policyKept"`
	// NothingLost audits the phase against the runtime's evidence: every served request, and every
	// indeterminate one, must have exactly one record (scenario.Expectation.NothingLost).
	NothingLost bool `yaml:"nothingLost"`
	P90TTFT     TTFT `yaml:"p90TTFT"`
	MinSamples  int  `yaml:"minSamples"`
}

// PolicyKept is `true` (FromPolicy: derive from the tenant's data policy) or
// `{forbidden: [...]}`.
type PolicyKept struct {
	FromPolicy bool
	Forbidden  []string
}

// UnmarshalYAML reads true/false or a mapping with forbidden.
func (p *PolicyKept) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var b bool
		if err := n.Decode(&b); err != nil {
			return err
		}
		*p = PolicyKept{FromPolicy: b}
		return nil
	}
	var m struct {
		Forbidden []string `yaml:"forbidden"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	*p = PolicyKept{Forbidden: m.Forbidden}
	return nil
}

// Fault is one fault on the schedule, At from the start of the first phase and held For: a link
// fault (toxiproxy) or node fault of Kind on what Select picks, with the parameters its kind
// takes, or a user's Command with its rollback.
type Fault struct {
	Name   string        `yaml:"name"`
	At     time.Duration `yaml:"at"`
	For    time.Duration `yaml:"for"`
	Select *Selector     `yaml:"select"`
	Kind   string        `yaml:"kind"`

	Latency       time.Duration `yaml:"latency"`
	Jitter        time.Duration `yaml:"jitter"`
	Delay         time.Duration `yaml:"delay"`
	Timeout       time.Duration `yaml:"timeout"`
	RateKBps      int64         `yaml:"rateKBps"`
	Bytes         int64         `yaml:"bytes"`
	AverageSize   int           `yaml:"averageSize"`
	SizeVariation int           `yaml:"sizeVariation"`
	UpstreamOnly  bool          `yaml:"upstreamOnly"`

	Command *Command `yaml:"command"`
}

// Selector picks links (link kinds: role region, name eu-west, part worker-a) or parts (node
// kinds: role worker, name worker-a); Mode is one, all, fixed:N or percent:P of the matches.
type Selector struct {
	Role string `yaml:"role"`
	Name string `yaml:"name"`
	Part string `yaml:"part"`
	Mode string `yaml:"mode"`
}

// Command is a fault only the user can cause: Run at the fault's start, Rollback at its end and
// on every rollback, each with sh -c and bounded by Timeout.
type Command struct {
	Run      string        `yaml:"run"`
	Rollback string        `yaml:"rollback"`
	Timeout  time.Duration `yaml:"timeout"`
}

// Abort says when to stop the day early.
type Abort struct {
	// ErrorBudget is, per tenant, the largest share of its requests that may go unserved.
	ErrorBudget map[string]float64 `yaml:"errorBudget"`
	MinSamples  int                `yaml:"minSamples"`
	Deadline    time.Duration      `yaml:"deadline"`
	OnInvariant bool               `yaml:"onInvariant"`
}

// Duration is the total length of the phases.
func (s Scenario) Duration() time.Duration {
	var d time.Duration
	for _, p := range s.Phases {
		d += p.Duration
	}
	return d
}
