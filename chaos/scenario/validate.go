package scenario

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aruntime/arcert/api/outcome"
)

// MaxRate bounds one load's rate, in requests per second: the engine starts a goroutine per
// request and keeps it until the request ends, so 10,000 a second with 10 s latencies is already
// 100,000 goroutines; a typo of 1e9 would take the harness down before the runtime.
const MaxRate = 10000.0

// ErrPlan marks a plan that cannot be run as written; the message names every field at fault.
var ErrPlan = errors.New("scenario: invalid plan")

// Validate checks the plan alone (not what it will meet) and returns every mistake at once, each
// as "field: message", wrapped in ErrPlan.
func (p Plan) Validate() error {
	var errs []string
	bad := func(field, format string, args ...any) {
		errs = append(errs, field+": "+fmt.Sprintf(format, args...))
	}
	if len(p.Phases) == 0 {
		bad("phases", "a plan needs at least one phase")
	}
	names := map[string]bool{}
	for i, ph := range p.Phases {
		f := fmt.Sprintf("phases[%d]", i)
		switch {
		case ph.Name == "":
			bad(f+".name", "a phase needs a name")
		case names[ph.Name]:
			bad(f+".name", "phase %q is named twice", ph.Name)
		}
		names[ph.Name] = true
		if ph.Duration <= 0 {
			bad(f+".duration", "must be positive, got %s", ph.Duration)
		}
		for j, l := range ph.Load {
			lf := fmt.Sprintf("%s.load[%d]", f, j)
			if l.Tenant == "" {
				bad(lf+".tenant", "a load needs a tenant")
			}
			if l.Rate < 0 || l.Rate > MaxRate {
				bad(lf+".rate", "must be within 0 and %g requests per second, got %g", MaxRate, l.Rate)
			}
			if l.Ramp < 0 || l.Ramp > ph.Duration {
				bad(lf+".ramp", "must be within the phase's %s, got %s", ph.Duration, l.Ramp)
			}
		}
		for j, e := range ph.Expect {
			validateExpect(fmt.Sprintf("%s.expect[%d]", f, j), e, bad)
		}
	}
	if len(p.Steady.Tenants) > 0 {
		if p.Steady.Probes < 1 {
			bad("steady.probes", "must be at least 1, got %d", p.Steady.Probes)
		}
		if p.Steady.Within <= 0 {
			bad("steady.within", "must be positive, got %s", p.Steady.Within)
		}
	}
	for i, t := range p.Steady.Tenants {
		if t.Tenant == "" {
			bad(fmt.Sprintf("steady.tenants[%d].tenant", i), "a steady-state tenant needs a name")
		}
		if t.MinServed < 0 || t.MinServed > 1 {
			bad(fmt.Sprintf("steady.tenants[%d].min_served", i), "must be a share in [0, 1], got %g", t.MinServed)
		}
	}
	faultNames := map[string]bool{}
	for i, f := range p.Faults {
		validateFault(fmt.Sprintf("faults[%d]", i), f, faultNames, bad)
		if d := p.Duration(); d > 0 && f.At >= d {
			bad(fmt.Sprintf("faults[%d].at", i), "%s is past the end of the last phase (%s): the fault would never be injected", f.At, d)
		}
	}
	for tenant, b := range p.Abort.ErrorBudget {
		if b < 0 || b > 1 {
			bad("abort.error_budget."+tenant, "must be a share in [0, 1], got %g", b)
		}
	}
	if p.Abort.MinSamples < 0 || p.Abort.Deadline < 0 || p.Recovery < 0 {
		bad("abort", "min_samples, deadline and recovery must not be negative")
	}
	if len(errs) == 0 {
		return nil
	}
	name := p.Name
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Errorf("%w %s: %s", ErrPlan, name, strings.Join(errs, "; "))
}

// validateExpect checks one expectation.
func validateExpect(f string, e Expectation, bad func(string, string, ...any)) {
	if e.MinServed < 0 || e.MinServed > 1 {
		bad(f+".min_served", "must be a share in [0, 1], got %g", e.MinServed)
	}
	if e.MinSamples < 0 {
		bad(f+".min_samples", "must not be negative, got %d", e.MinSamples)
	}
	for _, a := range e.Allowed {
		class, reason, _ := strings.Cut(a, "/")
		_, known := outcome.Reason(reason).Info()
		switch {
		case a == "indeterminate":
		case !outcome.Class(class).Valid():
			bad(f+".allowed", "%q is not an outcome class of the contract", class)
		case reason != "" && !known:
			bad(f+".allowed", "%q is not an outcome reason of the contract", reason)
		}
	}
}

// validateFault checks one fault: exactly one way to inject it, a window, a selector where needed.
func validateFault(f string, ft Fault, names map[string]bool, bad func(string, string, ...any)) {
	switch {
	case ft.Name == "":
		bad(f+".name", "a fault needs a name")
	case names[ft.Name]:
		bad(f+".name", "fault %q is named twice", ft.Name)
	}
	names[ft.Name] = true
	if ft.At < 0 {
		bad(f+".at", "must not be negative, got %s", ft.At)
	}
	if ft.For <= 0 {
		bad(f+".for", "must be positive, got %s", ft.For)
	}
	switch {
	case ft.Custom != nil:
	case ft.Command != nil:
		if strings.TrimSpace(ft.Command.Run) == "" {
			bad(f+".command.run", "a command fault needs a script to run")
		}
		if ft.Command.Timeout < 0 {
			bad(f+".command.timeout", "must not be negative, got %s", ft.Command.Timeout)
		}
	case ft.Fault.Kind == "":
		bad(f+".fault.kind", "a fault needs a kind, a command or a custom injection")
	default:
		if ft.Select.Role == "" {
			bad(f+".select.role", "a %s fault needs a role to select", ft.Fault.Kind)
		}
		if err := ft.Select.Mode.validate(); err != nil {
			bad(f+".select.mode", "%v", err)
		}
	}
}
