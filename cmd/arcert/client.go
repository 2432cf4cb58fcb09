package main

import (
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// httpClient is the HTTP driver for t's runtime. A target that declares `contract: {outcomes:
// inferred}` gets outcomes inferred from what OpenAI-compatible runtimes send (status, error
// body, finish_reason, [DONE]), with its own mapping rules first; every such result is marked
// inferred.
func httpClient(t *target.Target) *driver.Client {
	if !t.OutcomesInferred() {
		return driver.New(t.Endpoints.HTTP)
	}
	var rules []driver.Rule
	for _, m := range t.Contract.Map {
		class, reason, err := m.ClassReason()
		if err != nil {
			continue // checked when the target was loaded
		}
		rules = append(rules, driver.Rule{Status: m.Status, Type: m.Type, Code: m.Code, Class: class, Reason: reason})
	}
	return driver.New(t.Endpoints.HTTP, driver.WithInferredOutcomes(rules...))
}
