package spec

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/target"
)

// DefaultLoadShare is the share of the target's declared capacity a phase offers when the file
// gives no load: a quarter leaves the runtime room to absorb a fault (a lost worker halves
// eu-west's capacity) without shedding for load alone, so what the day sees is the fault's doing.
const DefaultLoadShare = 0.25

// defaultQuotaShare bounds a default load by the tenant's request quota, so default load is
// never refused for quota.
const defaultQuotaShare = 0.8

// DefaultRecovery is the recovery time when neither the file nor the target's
// resilience.recovery states one (the target format's own default).
const DefaultRecovery = 15 * time.Second

// compiler resolves a file against one target, collecting every mistake.
type compiler struct {
	f *File
	t *target.Target
	p problems
}

// Plan compiles the file against a target into the plan the engine runs: tenants and classes
// resolved (each unknown one a mistake at its line), load sized from the declared capacity,
// classObjective replaced by the class's declared TTFT objective, policyKept: true by what the
// tenant's data policy forbids, fault selectors checked against the declared dependency links,
// and the recovery time taken from the target when the file states none.
func (f *File) Plan(t *target.Target) (scenario.Plan, error) {
	c := &compiler{f: f, t: t}
	s := f.Spec
	plan := scenario.Plan{
		Name:     f.Metadata.Name,
		Seed:     s.Seed,
		Steady:   c.steady(),
		Abort:    c.abort(),
		Recovery: c.recovery(),
	}
	for i, ph := range s.Phases {
		at := fmt.Sprintf("spec.phases[%d]", i)
		out := scenario.Phase{Name: ph.Name, Duration: ph.Duration}
		switch {
		case ph.Load != nil:
			out.Load = c.load(at+".load", ph.Load)
		case s.Load != nil:
			out.Load = c.load("spec.load", s.Load)
			if i > 0 {
				// The day's load ramps once, at the start of the day; the phases after the first
				// carry it on at full rate, or each would start with a dip in load.
				for k := range out.Load {
					out.Load[k].Ramp = 0
				}
			}
		default:
			out.Load = c.defaultLoad()
		}
		for j, e := range ph.Expect {
			out.Expect = append(out.Expect, c.expect(fmt.Sprintf("%s.expect[%d]", at, j), e))
		}
		plan.Phases = append(plan.Phases, out)
	}
	for i, ft := range s.Faults {
		plan.Faults = append(plan.Faults, c.fault(fmt.Sprintf("spec.faults[%d]", i), ft))
	}
	if len(c.p) > 0 {
		return scenario.Plan{}, locate(f.Source, f.root, c.p)
	}
	return plan, nil
}

// tenant resolves a tenant's name; a mistake at field when the target declares none such.
func (c *compiler) tenant(field, name string) (target.Tenant, bool) {
	for _, tn := range c.t.Tenants {
		if tn.Name == name {
			return tn, true
		}
	}
	var names []string
	for _, tn := range c.t.Tenants {
		names = append(names, tn.Name)
	}
	c.p.add(field, "tenant %q is not declared in %s (its tenants: %s)", name, c.t.Source, strings.Join(names, ", "))
	return target.Tenant{}, false
}

// class resolves a traffic class the tenant (when named) may use; empty is every class.
func (c *compiler) class(field string, tn *target.Tenant, class string) (target.TrafficClass, bool) {
	if class == "" {
		return target.TrafficClass{}, true
	}
	tc, ok := c.t.Class(class)
	if !ok {
		var names []string
		for _, x := range c.t.TrafficClasses {
			names = append(names, x.Name)
		}
		c.p.add(field, "traffic class %q is not declared in %s (its classes: %s)", class, c.t.Source, strings.Join(names, ", "))
		return tc, false
	}
	if tn != nil && !slices.Contains(tn.TrafficClasses, class) {
		c.p.add(field, "tenant %s may not use class %s (its classes: %s)", tn.Name, class, strings.Join(tn.TrafficClasses, ", "))
		return tc, false
	}
	return tc, true
}

// who resolves an optional tenant and class, returning the tenant (nil for every tenant) and the
// class (zero for every class).
func (c *compiler) who(at, tenant, class string) (*target.Tenant, target.TrafficClass, bool) {
	var tn *target.Tenant
	if tenant != "" {
		t, ok := c.tenant(at+".tenant", tenant)
		if !ok {
			return nil, target.TrafficClass{}, false
		}
		tn = &t
	}
	tc, ok := c.class(at+".class", tn, class)
	return tn, tc, ok
}

// ttft resolves a TTFT bound: classObjective is the class's objective, or the tenant's only
// class's when no class is named.
func (c *compiler) ttft(field string, tn *target.Tenant, tc target.TrafficClass, b TTFT) time.Duration {
	if !b.ClassObjective {
		return b.Duration
	}
	if tc.Name == "" && tn != nil && len(tn.TrafficClasses) == 1 {
		tc, _ = c.t.Class(tn.TrafficClasses[0])
	}
	if tc.Name == "" {
		c.p.add(field, "classObjective needs a class: name the class whose ttft_objective bounds it")
		return 0
	}
	if tc.TTFT <= 0 {
		c.p.add(field, "class %s declares no ttft_objective in %s", tc.Name, c.t.Source)
	}
	return tc.TTFT
}

// steady resolves the steady-state hypothesis.
func (c *compiler) steady() scenario.Steady {
	ss := c.f.Spec.SteadyState
	out := scenario.Steady{Probes: ss.Probes, Within: ss.Within}
	for i, st := range ss.Tenants {
		at := fmt.Sprintf("spec.steadyState.tenants[%d]", i)
		tn, tc, ok := c.who(at, st.Tenant, st.Class)
		if !ok {
			continue
		}
		minServed := 1.0
		if st.MinServed != nil {
			minServed = *st.MinServed
		}
		out.Tenants = append(out.Tenants, scenario.SteadyTenant{Tenant: st.Tenant, Class: st.Class, MinServed: minServed,
			MaxP90TTFT: c.ttft(at+".p90TTFT", tn, tc, st.P90TTFT)})
	}
	return out
}

// load resolves one load list, sizing shares from the declared capacity.
func (c *compiler) load(at string, loads []TenantLoad) []scenario.Load {
	var out []scenario.Load
	for i, l := range loads {
		f := fmt.Sprintf("%s[%d]", at, i)
		if _, _, ok := c.who(f, l.Tenant, l.Class); !ok {
			continue
		}
		rate := 0.0
		switch {
		case l.Rate != nil:
			rate = *l.Rate
		case l.CapacityShare != nil:
			if c.t.Capacity.RequestsPerSecond <= 0 {
				c.p.add(f+".capacityShare", "%s declares no capacity.requests_per_second to take a share of: give rate", c.t.Source)
				continue
			}
			rate = *l.CapacityShare * c.t.Capacity.RequestsPerSecond
			if rate > MaxRate {
				c.p.add(f+".capacityShare", "%g of %s's capacity is %g requests per second, more than one load may ask for (%g)", *l.CapacityShare, c.t.Source, rate, MaxRate)
				continue
			}
		}
		out = append(out, scenario.Load{Tenant: l.Tenant, Class: l.Class, Rate: rate, Ramp: l.Ramp})
	}
	return out
}

// defaultLoad is DefaultLoadShare of the declared capacity, split evenly over every tenant in
// every class it may use, each bounded by defaultQuotaShare of the tenant's request quota.
func (c *compiler) defaultLoad() []scenario.Load {
	if c.t.Capacity.RequestsPerSecond <= 0 {
		c.p.add("spec", "%s declares no capacity.requests_per_second to size default load from: give spec.load", c.t.Source)
		return nil
	}
	n := 0
	for _, tn := range c.t.Tenants {
		n += max(len(tn.TrafficClasses), 1)
	}
	each := min(DefaultLoadShare*c.t.Capacity.RequestsPerSecond/float64(max(n, 1)), MaxRate)
	var out []scenario.Load
	for _, tn := range c.t.Tenants {
		rate := each
		if q := tn.Quota.RequestsPerMinute; q > 0 {
			rate = min(rate, defaultQuotaShare*float64(q)/60/float64(max(len(tn.TrafficClasses), 1)))
		}
		if len(tn.TrafficClasses) == 0 {
			out = append(out, scenario.Load{Tenant: tn.Name, Rate: rate})
		}
		for _, class := range tn.TrafficClasses {
			out = append(out, scenario.Load{Tenant: tn.Name, Class: class, Rate: rate})
		}
	}
	return out
}

// abort resolves the abort rules.
func (c *compiler) abort() scenario.Abort {
	a := c.f.Spec.Abort
	out := scenario.Abort{MinSamples: a.MinSamples, Deadline: a.Deadline, OnInvariant: a.OnInvariant}
	for _, name := range sortedKeys(a.ErrorBudget) {
		if _, ok := c.tenant("spec.abort.errorBudget."+name, name); ok {
			if out.ErrorBudget == nil {
				out.ErrorBudget = map[string]float64{}
			}
			out.ErrorBudget[name] = a.ErrorBudget[name]
		}
	}
	return out
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// recovery is the file's recovery time, else the target's, else DefaultRecovery.
func (c *compiler) recovery() time.Duration {
	switch {
	case c.f.Spec.Recovery > 0:
		return c.f.Spec.Recovery
	case c.t.Resilience != nil && c.t.Resilience.Recovery > 0:
		return c.t.Resilience.Recovery
	}
	return DefaultRecovery
}
