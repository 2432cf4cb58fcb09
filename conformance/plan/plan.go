// Package plan says, before a request is sent, what a certification can make of a target's
// declarations: for each requirement, whether its specs will run, be NOT_SUPPORTED (the target
// does not declare what the requirement is about) or be unjudgeable (they would run and stop at
// a validity gate, INVALID or INCONCLUSIVE, because the declarations cannot carry the test), and
// why. It is a pure function of the catalogue and the target, so `arcert target validate` can
// show it and certify can hold to it: the gates here are the suites' own (admission, quota,
// class and identity gates), stated over the declarations alone.
package plan

import (
	"fmt"
	"strings"

	"github.com/aruntime/arcert/conformance/catalog"
	"github.com/aruntime/arcert/conformance/target"
)

// Status is what the plan expects of a requirement.
type Status string

// The statuses a requirement can have before the run.
const (
	// Runs: its specs run and judge the runtime.
	Runs Status = "runs"
	// NotSupported: the target does not declare what the requirement is about, or leaves out a
	// field the judgement needs; its specs do not run and the report says NOT_SUPPORTED.
	NotSupported Status = "NOT_SUPPORTED"
	// Unjudgeable: its specs would run and stop at a validity gate (INVALID or INCONCLUSIVE)
	// whatever the runtime does: the declarations cannot carry the test.
	Unjudgeable Status = "unjudgeable"
	// FailsAsDeclared: the requirement is about the record itself, and the record lacks what it
	// asks for; it will FAIL whatever the runtime does.
	FailsAsDeclared Status = "fails as declared"
)

// Item is one requirement's expected fate, and why (empty for a plain run).
type Item struct {
	catalog.Requirement
	Status Status
	Why    string
}

// Of plans every requirement of the catalogue against t, in catalogue order.
func Of(c *catalog.Catalog, t *target.Target) []Item {
	out := make([]Item, 0, len(c.Requirements))
	for _, q := range c.Requirements {
		out = append(out, itemOf(q, t))
	}
	return out
}

// Excluded are the requirements whose feature the target declares but whose judgement needs a
// field it leaves out, with the reason: certify does not run their specs and reports them
// NOT_SUPPORTED with that reason, as it does for an undeclared feature.
func Excluded(c *catalog.Catalog, t *target.Target) map[string]string {
	out := map[string]string{}
	for _, it := range Of(c, t) {
		if it.Status == NotSupported && t.Declares(it.Feature) {
			out[it.ID] = it.Why
		}
	}
	return out
}

func itemOf(q catalog.Requirement, t *target.Target) Item {
	it := Item{Requirement: q, Status: Runs}
	if !t.Declares(q.Feature) {
		it.Status, it.Why = NotSupported, "feature "+q.Feature+" is not declared"
		return it
	}
	if q.Contract && t.OutcomesInferred() {
		it.Status, it.Why = NotSupported, "a contract requirement: it judges what only the stated outcome contract carries, and this runtime's outcomes are inferred (contract.outcomes); the missing contract is OUT-1's finding"
		return it
	}
	if why := judgedWithGap(q, t); why != "" {
		it.Status, it.Why = NotSupported, why
		return it
	}
	if why := featureGap(q.Feature, t); why != "" {
		it.Status, it.Why = NotSupported, why
		return it
	}
	if gate, ok := gates[q.ID]; ok {
		if st, why := gate(t); st != Runs || why != "" {
			it.Status, it.Why = st, why
		}
	}
	return it
}

// judgedWithGap names the feature q's judgement reads through that t does not declare, or "".
func judgedWithGap(q catalog.Requirement, t *target.Target) string {
	for _, f := range q.JudgedWith {
		if !t.Declares(f) {
			return fmt.Sprintf("judging it reads the runtime's %s, and feature %s is not declared", f, f)
		}
	}
	return ""
}

// Conflicts are the declared features that cannot be judged with the rest of the declaration: a
// requirement of a declared feature whose judgement reads through an undeclared one. `target
// validate` and certify refuse such a target, so a user decides (declare the other feature, or
// drop this one and accept NOT_SUPPORTED) rather than reading a verdict about a missing endpoint.
func Conflicts(c *catalog.Catalog, t *target.Target) []string {
	var out []string
	for _, q := range c.Requirements {
		if !t.Declares(q.Feature) {
			continue
		}
		for _, f := range q.JudgedWith {
			if !t.Declares(f) {
				out = append(out, fmt.Sprintf("features: %s is declared, but %s (%s) is judged through the runtime's %s: declare %s too, or leave %s out (%s is then NOT_SUPPORTED)",
					q.Feature, q.ID, q.Title, f, f, q.Feature, q.ID))
			}
		}
	}
	return out
}

// featureGap says which field a declared feature needs that the target leaves out, or "".
func featureGap(feature string, t *target.Target) string {
	switch feature {
	case "versions", "rollout", "artifacts":
		if feature == "versions" && !t.Pins.Stated() {
			return "pins.runtime_version and pins.policy_version are needed to compare what workers report"
		}
		for _, m := range t.Models {
			if m.ArtifactDigest == "" {
				return fmt.Sprintf("model %s states no artifact_digest to hold the workers to", m.Name)
			}
		}
	case "quotas":
		if tn, ok := firstTenant(t, func(tn target.Tenant) bool { return !tn.Quota.Stated() }); ok {
			return fmt.Sprintf("tenant %s states no full quota (requests_per_minute, tokens_per_minute, max_concurrency)", tn.Name)
		}
	case "regions", "hosted-fallback", "device-faults":
		if tn, ok := firstTenant(t, func(tn target.Tenant) bool { return !tn.DataPolicy.Stated() }); ok {
			return fmt.Sprintf("tenant %s states no data_policy, so where its data may go cannot be judged", tn.Name)
		}
	case "grpc":
		if t.Endpoints.GRPC == "" {
			return "no endpoints.grpc"
		}
	}
	return ""
}

func firstTenant(t *target.Target, pred func(target.Tenant) bool) (target.Tenant, bool) {
	for _, tn := range t.Tenants {
		if pred(tn) {
			return tn, true
		}
	}
	return target.Tenant{}, false
}

// defaultedDeadlines names the classes judged against target.DefaultDeadline, for the note of
// every requirement that judges lateness.
func defaultedDeadlines(t *target.Target) string {
	var names []string
	for _, k := range t.TrafficClasses {
		if !k.DeadlineStated() {
			names = append(names, k.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("lateness judged against the harness's default deadline of %s (class %s states none)", target.DefaultDeadline, strings.Join(names, ", "))
}

// Summary counts the plan's statuses, for one line under the table.
func Summary(items []Item) string {
	n := map[Status]int{}
	for _, it := range items {
		n[it.Status]++
	}
	var parts []string
	for _, s := range []Status{Runs, NotSupported, Unjudgeable, FailsAsDeclared} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	return strings.Join(parts, ", ")
}
