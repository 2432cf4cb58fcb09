package spec

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/internal/yamlschema"
)

// MaxDuration bounds a game day's phases in total: a day. Longer is a soak test, not a game day,
// and the sum of durations must not overflow (two 2,000,000 h phases summed to a negative total
// that skipped every check against it).
const MaxDuration = 24 * time.Hour

// MaxRate bounds one load's rate, in requests per second: the engine's own bound (see
// scenario.MaxRate), checked here so the file's line is named.
const MaxRate = scenario.MaxRate

// problems collects mistakes by field path; lines are found when they are located.
type problems []*yamlschema.Problem

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, &yamlschema.Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// check enforces what the schema cannot say about a file on its own; what needs the target
// (tenants, classes, declared links) is Plan's.
func (f *File) check() []*yamlschema.Problem {
	var p problems
	s := f.Spec
	p.checkLoad("spec.load", s.Load)
	seen := map[string]bool{}
	for i, st := range s.SteadyState.Tenants {
		if k := st.Tenant + "/" + st.Class; seen[k] {
			p.add(fmt.Sprintf("spec.steadyState.tenants[%d]", i), "tenant %s%s is listed twice", st.Tenant, inClass(st.Class))
		} else {
			seen[k] = true
		}
	}
	if s.SteadyState.Within <= 0 {
		p.add("spec.steadyState.within", "must be longer than 0s: the probes need time to be served")
	}
	phases := map[string]bool{}
	for i, ph := range s.Phases {
		at := fmt.Sprintf("spec.phases[%d]", i)
		if phases[ph.Name] {
			p.add(at+".name", "phase %q is named twice", ph.Name)
		}
		phases[ph.Name] = true
		if ph.Duration <= 0 {
			p.add(at+".duration", "must be longer than 0s")
		}
		if ph.Load != nil {
			p.checkLoad(at+".load", ph.Load)
		}
		names := map[string]bool{}
		for j, e := range ph.Expect {
			p.checkExpect(fmt.Sprintf("%s.expect[%d]", at, j), e, names)
		}
	}
	var total time.Duration
	for i, ph := range s.Phases {
		if ph.Duration > 0 && total <= MaxDuration {
			total += min(ph.Duration, MaxDuration+1)
		}
		if total > MaxDuration {
			p.add(fmt.Sprintf("spec.phases[%d].duration", i), "the phases last more than %s in total: a game day is at most a day", MaxDuration)
			break
		}
	}
	faults := map[string]bool{}
	for i, ft := range s.Faults {
		at := fmt.Sprintf("spec.faults[%d]", i)
		if faults[ft.Name] {
			p.add(at+".name", "fault %q is named twice", ft.Name)
		}
		faults[ft.Name] = true
		p.checkFault(at, ft)
		if ft.For <= 0 {
			p.add(at+".for", "must be longer than 0s")
		}
		if ft.At > MaxDuration || ft.For > MaxDuration {
			p.add(at, "at and for must each be at most %s", MaxDuration)
		} else if end := ft.At + ft.For; total > 0 && end > total {
			p.add(at+".for", "the fault holds until %s, past the end of the phases at %s", end, total)
		}
	}
	if d := s.Abort.Deadline; d > 0 && d < total {
		p.add("spec.abort.deadline", "%s is shorter than the phases' %s: every run would abort", d, total)
	}
	return p
}

func inClass(class string) string {
	if class == "" {
		return ""
	}
	return " in class " + class
}

// checkLoad checks one load list: each entry a rate or a share of capacity, each tenant and
// class once.
func (p *problems) checkLoad(at string, loads []TenantLoad) {
	seen := map[string]bool{}
	for i, l := range loads {
		f := fmt.Sprintf("%s[%d]", at, i)
		switch {
		case l.Rate != nil && l.CapacityShare != nil:
			p.add(f, "give rate or capacityShare, not both")
		case l.Rate == nil && l.CapacityShare == nil:
			p.add(f, "give rate (requests per second) or capacityShare (of the target's declared capacity)")
		}
		if l.Rate != nil && *l.Rate > MaxRate {
			p.add(f+".rate", "%g requests per second is more than one load may ask for (%g)", *l.Rate, MaxRate)
		}
		if k := l.Tenant + "/" + l.Class; seen[k] {
			p.add(f, "tenant %s%s has load twice in this list", l.Tenant, inClass(l.Class))
		} else {
			seen[k] = true
		}
	}
}

// checkExpect checks one expectation: it judges something, its outcomes are the contract's, its
// name is its phase's only one.
func (p *problems) checkExpect(at string, e Expect, names map[string]bool) {
	if e.MinServed == 0 && len(e.Allowed) == 0 && e.PolicyKept == nil && !e.NothingLost && e.P90TTFT.IsZero() {
		p.add(at, "judges nothing: give minServed, allowed, policyKept, nothingLost or p90TTFT")
	}
	for k, o := range e.Allowed {
		if msg := checkOutcome(o); msg != "" {
			p.add(fmt.Sprintf("%s.allowed[%d]", at, k), "%s", msg)
		}
	}
	if e.PolicyKept != nil && e.PolicyKept.FromPolicy && e.Tenant == "" {
		p.add(at+".policyKept", "true keeps one tenant's data policy: name the tenant, or list forbidden regions and providers")
	}
	name := e.name()
	if names[name] {
		p.add(at, "a second expectation called %q in this phase: give each a name", name)
	}
	names[name] = true
}

// name is the expectation's name, or one made from what it judges.
func (e Expect) name() string {
	if e.Name != "" {
		return e.Name
	}
	who := e.Tenant
	if who == "" {
		who = "every tenant"
	}
	return who + inClass(e.Class)
}

// checkOutcome returns what is wrong with an allowed outcome ("class", "class/reason" or
// "indeterminate": a request with no outcome the runtime stated, which the engine judges), or "".
func checkOutcome(s string) string {
	if s == "indeterminate" {
		return ""
	}
	class, reason, hasReason := strings.Cut(s, "/")
	if !outcome.Class(class).Valid() {
		return fmt.Sprintf("%q is not an outcome class (completed, rerouted, degraded, rejected, shed, timed_out, failed)", class)
	}
	if !hasReason {
		return ""
	}
	info, ok := outcome.Reason(reason).Info()
	if !ok {
		return fmt.Sprintf("%q is not a reason of the outcome contract", reason)
	}
	if info.Class != outcome.Class(class) {
		return fmt.Sprintf("reason %s belongs to class %s, not %s", reason, info.Class, class)
	}
	return ""
}

// checkFault checks a fault's shape: a kind with a selector or a command, a role its kind can
// reach, the parameters of its kind only, a mode that parses.
func (p *problems) checkFault(at string, ft Fault) {
	k := fault.Kind(ft.Kind)
	switch {
	case ft.Command != nil && (ft.Kind != "" || ft.Select != nil):
		p.add(at+".command", "a command fault runs the user's script and takes no kind or select")
		return
	case ft.Command != nil:
		return
	case ft.Kind == "":
		p.add(at, "give a kind (with select) or a command")
		return
	case ft.Select == nil:
		p.add(at, "kind %s needs select: the role (and name, part, mode) it goes on", ft.Kind)
		return
	}
	allowed := linkKinds[k]
	switch {
	case isLinkKind(k) && !slices.Contains(LinkRoles, ft.Select.Role):
		p.add(at+".select.role", "%s is a link fault; role %s is a part of the runtime, not a dependency link (%s)", k, ft.Select.Role, strings.Join(LinkRoles, ", "))
	case isNodeKind(k) && !slices.Contains(NodeRoles, ft.Select.Role):
		p.add(at+".select.role", "%s is a node fault; role %s is a dependency link, not a part of the runtime (%s)", k, ft.Select.Role, strings.Join(NodeRoles, ", "))
	}
	for _, param := range ft.params() {
		if !slices.Contains(allowed, param) {
			p.add(at+"."+param, "kind %s takes no %s%s", k, param, paramsOf(allowed))
		}
	}
	if isNodeKind(k) && ft.Select.Part != "" {
		p.add(at+".select.part", "a node fault selects parts by name; part tells apart the links of one dependency")
	}
	if _, err := ParseMode(ft.Select.Mode); err != nil {
		p.add(at+".select.mode", "%s", err.Error())
	}
}

func paramsOf(list []string) string {
	if len(list) == 0 {
		return " (it takes no parameters)"
	}
	return " (it takes " + strings.Join(list, ", ") + ")"
}
