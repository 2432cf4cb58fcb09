package journal

import (
	"fmt"
	"time"

	"github.com/aruntime/arcert/chaos/scenario"
)

// NotRun is the verdict of a check the run never reached (the steady state after an errored
// run, the expectations of a phase an abort cut off): nothing was judged, so nothing is claimed.
const NotRun scenario.Verdict = "NOT_RUN"

// CheckKind says what a Check judged.
type CheckKind string

// The kinds of check a game day is judged by, in the order they are listed.
const (
	KindSteadyBefore CheckKind = "steady_before"
	KindExpectation  CheckKind = "expectation"
	KindFault        CheckKind = "fault"
	KindAbort        CheckKind = "abort"
	KindSteadyAfter  CheckKind = "steady_after"
	KindResidue      CheckKind = "residue"
	KindRecovery     CheckKind = "recovery"
	KindHarness      CheckKind = "harness"
)

// Check is one row of the game day's verdict table: summary.md, junit.xml and report.html all
// list the same checks, so CI, the summary and the page never disagree.
type Check struct {
	Kind CheckKind
	// Name is what a person reads ("steady state before", an expectation's name); Phase is set
	// for an expectation.
	Name   string
	Phase  string
	Result scenario.Result
	// Samples is how many requests an expectation judged.
	Samples int
	// Took is how long the judged stretch lasted (the phase, the probes), 0 when it has none.
	Took time.Duration
}

// Checks lists j's checks: the steady state before, each expectation, each fault as injected
// and healed, the abort rule, the steady state after, the residue, the recovery and the harness.
// A check with no verdict (never reached) is NOT_RUN.
func Checks(j Journal) []Check {
	o := j.Outcome
	var out []Check
	add := func(c Check) {
		if c.Result.Verdict == "" {
			c.Result = scenario.Result{Verdict: NotRun, Message: "not reached: the run ended before it"}
		}
		out = append(out, c)
	}
	add(Check{Kind: KindSteadyBefore, Name: "steady state before", Result: o.SteadyBefore.Result, Took: span(o.SteadyBefore.Start, o.SteadyBefore.End)})
	phases := map[string]time.Duration{}
	for _, p := range o.Phases {
		phases[p.Name] = span(p.Start, p.End)
	}
	for _, e := range o.Expectations {
		add(Check{Kind: KindExpectation, Name: ExpectationName(e.Expectation), Phase: e.Phase, Result: e.Result, Samples: e.Samples, Took: phases[e.Phase]})
	}
	for _, f := range o.Faults {
		r := scenario.Result{Verdict: scenario.Pass, Message: fmt.Sprintf("%s held %s on %s", f.Kind, secs(span(f.Start, f.End)), On(f))}
		if f.Error != "" {
			r = scenario.Result{Verdict: scenario.Inconclusive, Message: "the fault did not run as planned: " + f.Error}
		}
		add(Check{Kind: KindFault, Name: "fault " + f.Name, Result: r, Took: span(f.Start, f.End)})
	}
	abort := scenario.Result{Verdict: scenario.Pass, Message: "no abort rule fired"}
	if a := o.Abort; a != nil {
		abort = scenario.Result{Verdict: scenario.Fail, Message: fmt.Sprintf("aborted by %s at +%s: %s", a.Rule, secs(a.At.Sub(o.Start)), a.Reason)}
	}
	add(Check{Kind: KindAbort, Name: "no abort", Result: abort})
	add(Check{Kind: KindSteadyAfter, Name: "steady state after", Result: o.SteadyAfter.Result, Took: span(o.SteadyAfter.Start, o.SteadyAfter.End)})
	add(Check{Kind: KindResidue, Name: "no residue", Result: o.Residue})
	rec := o.RecoveryResult
	if rec.Verdict != "" && rec.Message == "" {
		rec.Message = fmt.Sprintf("recovered in %s, declared %s", secs(o.Recovery), secs(j.DeclaredRecovery))
	}
	add(Check{Kind: KindRecovery, Name: "recovery", Result: rec, Took: o.Recovery})
	harness := scenario.Result{Verdict: scenario.Pass, Message: "the harness ran without error"}
	if o.Error != "" {
		harness = scenario.Result{Verdict: scenario.Inconclusive, Message: "the harness failed: " + o.Error}
	}
	add(Check{Kind: KindHarness, Name: "harness", Result: harness})
	return out
}

// ExpectationName is an expectation's name, or its tenant and class when it has none.
func ExpectationName(e scenario.Expectation) string {
	if e.Name != "" {
		return e.Name
	}
	who := e.Tenant
	if who == "" {
		who = "every tenant"
	}
	if e.Class != "" {
		who += "/" + e.Class
	}
	return who
}

// On says what a fault went on: its targets, else its role; a command fault goes on whatever its
// script acts on, which only the script knows.
func On(f scenario.FaultRecord) string {
	switch {
	case len(f.Targets) == 0 && f.Kind == "command":
		return "what its command acts on"
	case len(f.Targets) > 0:
		s := f.Targets[0]
		for _, t := range f.Targets[1:] {
			s += ", " + t
		}
		return s
	case f.Role != "":
		return f.Role
	}
	return "(nothing)"
}

// span is end-start, 0 when either is unset or they are out of order.
func span(start, end time.Time) time.Duration {
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return 0
	}
	return end.Sub(start)
}

// secs renders d in seconds with one decimal, the unit a game day is read in.
func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
