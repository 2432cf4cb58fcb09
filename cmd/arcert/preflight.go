package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/preflight"
	"github.com/aruntime/arcert/conformance/target"
)

// runPreflight checks that the runtime can be certified at all before any spec runs: one line
// and exit 2 when it cannot (unreachable, credentials refused, no stream), instead of a run of
// FAILs that all mean the same thing.
func runPreflight(ctx context.Context, stderr io.Writer, t *target.Target) error {
	start := time.Now()
	steps, err := preflight.Run(ctx, t, httpClient(t, driver.MaxConnsPerHost))
	if err != nil {
		return &exitError{code: exitInvalid, err: err}
	}
	routers := ""
	if n := len(t.Endpoints.HTTPURLs()); n > 1 {
		routers = fmt.Sprintf(" on each of %d routers", n)
	}
	fmt.Fprintf(stderr, "arcert: preflight: %d checks passed in %s (reachable, model, credentials, stream%s)\n", len(steps), since(start), routers)
	return nil
}
