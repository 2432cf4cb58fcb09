package main

import (
	"fmt"

	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// httpClient is the HTTP driver for t's runtime, spreading inference calls over every router the
// target lists (endpoints.http, then endpoints.more). A target that declares `contract: {outcomes:
// inferred}` gets outcomes inferred from what OpenAI-compatible runtimes send (status, error
// body, finish_reason, [DONE]), with its own mapping rules first; every such result is marked
// inferred. It opens at most connsPerRouter connections to each router.
func httpClient(t *target.Target, connsPerRouter int) *driver.Client {
	opts := []driver.Option{driver.WithMoreEndpoints(t.Endpoints.HTTPURLs()[1:]...), driver.WithMaxConnsPerRouter(connsPerRouter)}
	if !t.OutcomesInferred() {
		return driver.New(t.Endpoints.HTTP, opts...)
	}
	var rules []driver.Rule
	for _, m := range t.Contract.Map {
		class, reason, err := m.ClassReason()
		if err != nil {
			continue // checked when the target was loaded
		}
		rules = append(rules, driver.Rule{Status: m.Status, Type: m.Type, Code: m.Code, Class: class, Reason: reason})
	}
	return driver.New(t.Endpoints.HTTP, append(opts, driver.WithInferredOutcomes(rules...))...)
}

// routersWord names where the runtime is reached, for a progress line: its one router, or the
// primary and how many more the load is spread over.
func routersWord(t *target.Target) string {
	if n := len(t.Endpoints.More); n > 0 {
		return fmt.Sprintf("%s and %d more router(s), requests spread round-robin", t.Endpoints.HTTP, n)
	}
	return t.Endpoints.HTTP
}
