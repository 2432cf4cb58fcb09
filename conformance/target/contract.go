package target

import (
	"fmt"
	"strings"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/internal/yamlschema"
)

// How a runtime states the outcome of a request (Contract.Outcomes).
const (
	// OutcomesStated is a runtime that sends the ARuntime outcome contract (ARuntime-Outcome,
	// its reason, served-by, aruntime_outcome): the harness reads outcomes and holds the runtime
	// to every word of the contract. The default, so the reference and existing targets keep it.
	OutcomesStated = "stated"
	// OutcomesInferred is a runtime that speaks plain OpenAI-compatible HTTP (Ollama, vLLM, TGI,
	// llama.cpp, OpenAI itself): the harness infers each outcome from the status, the error body
	// and whether the response was complete, marks it inferred, and judges the contract's own
	// words once, under the outcome requirements, rather than in every requirement.
	OutcomesInferred = "inferred"
)

// Contract says how much of the outcome contract the runtime speaks.
type Contract struct {
	// Outcomes is OutcomesStated (also when empty) or OutcomesInferred.
	Outcomes string `yaml:"outcomes"`
	// Map lists the runtime's documented errors, for inferred outcomes: the first rule that
	// matches a refusal decides its outcome, before the driver's defaults.
	Map []OutcomeRule `yaml:"map"`
}

// OutcomeRule maps one documented error of the runtime to an outcome of the contract. Status,
// Type and Code must all match where given (an empty one matches anything); at least one is given.
type OutcomeRule struct {
	Status int    `yaml:"status"`
	Type   string `yaml:"type"`
	Code   string `yaml:"code"`
	// Outcome is class/reason, e.g. shed/capacity; see ClassReason.
	Outcome string `yaml:"outcome"`
}

// OutcomesInferred reports whether the harness must infer this runtime's outcomes rather than read
// them from the contract.
func (t *Target) OutcomesInferred() bool { return t.Contract.Outcomes == OutcomesInferred }

// ClassReason reads the rule's outcome: a class of the contract, a reason of that class, and not
// a served class (an error response is never an answer).
func (r OutcomeRule) ClassReason() (outcome.Class, outcome.Reason, error) {
	cs, rs, ok := strings.Cut(r.Outcome, "/")
	if !ok {
		return "", "", fmt.Errorf("%q is not class/reason, e.g. shed/capacity", r.Outcome)
	}
	c, err := outcome.ParseClass(cs)
	if err != nil {
		return "", "", fmt.Errorf("unknown class %q; the classes are %s", cs, classList())
	}
	if c.Served() {
		return "", "", fmt.Errorf("class %q is served, but a rule maps an error response, which is never an answer", c)
	}
	reason, err := outcome.ParseReason(rs)
	if err != nil {
		return "", "", fmt.Errorf("unknown reason %q; the reasons of %s are %s", rs, c, reasonList(c))
	}
	if reason.Class() != c {
		return "", "", fmt.Errorf("reason %q belongs to class %q, not %q", reason, reason.Class(), c)
	}
	return c, reason, nil
}

// checkContract validates the contract section: a map only where outcomes are inferred, and every
// rule's outcome a class and reason of the contract.
func (t *Target) checkContract() []*yamlschema.Problem {
	var probs []*yamlschema.Problem
	if len(t.Contract.Map) > 0 && !t.OutcomesInferred() {
		probs = append(probs, &yamlschema.Problem{Field: "contract.map",
			Msg: "a map applies only when contract.outcomes is inferred: a runtime that states its outcomes is read, not mapped"})
	}
	for i, r := range t.Contract.Map {
		if r.Status == 0 && r.Type == "" && r.Code == "" {
			probs = append(probs, &yamlschema.Problem{Field: fmt.Sprintf("contract.map[%d]", i),
				Msg: "give status, type or code: a rule that matches every error would map every refusal alike"})
		}
		if _, _, err := r.ClassReason(); err != nil {
			probs = append(probs, &yamlschema.Problem{Field: fmt.Sprintf("contract.map[%d].outcome", i), Msg: err.Error()})
		}
	}
	return probs
}

func classList() string {
	out := make([]string, len(outcome.Classes))
	for i, c := range outcome.Classes {
		out[i] = string(c)
	}
	return strings.Join(out, ", ")
}

func reasonList(c outcome.Class) string {
	var out []string
	for _, r := range outcome.SortedReasons() {
		if r.Class() == c {
			out = append(out, string(r))
		}
	}
	return strings.Join(out, ", ")
}
