package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aruntime/arcert/conformance/catalog"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/report"
	"github.com/aruntime/arcert/suites"
)

func TestZZResilienceTry(t *testing.T) {
	ctx := context.Background()
	tgt, setup, stop, err := startContainers(ctx, os.Stderr)
	if err != nil { t.Fatal(err) }
	defer stop()
	cat := catalog.MustLoad()
	env := &suites.Env{Target: tgt, Catalog: cat, HTTP: driver.New(tgt.Endpoints.HTTP), Seed: 1, Chaos: setup.Engine, Nodes: setup.Nodes}
	started := time.Now()
	records, err := suites.Run(suites.Options{Env: env, Profiles: []string{"resilience"}, NoColor: true, Timeout: 10 * time.Minute, Verbose: false})
	if err != nil { t.Fatal(err) }
	rep := report.Compute(report.Inputs{Catalog: cat, Profiles: []string{"resilience"}, Declares: tgt.Declares, Specs: records,
		Implementation: tgt.Implementation, HarnessVersion: "try", Target: report.Target{Source: tgt.Source, Digest: tgt.Digest}, Seed: 1, Started: started, Duration: time.Since(started)})
	_ = report.WriteAll("/tmp/arcert-containers-report", rep)
	printSummary(os.Stdout, rep, "/tmp/arcert-containers-report")
	fmt.Println("took", time.Since(started))
}
