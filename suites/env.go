package suites

import (
	"fmt"
	"math/rand/v2"

	"github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/catalog"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/grpcdriver"
	"github.com/aruntime/arcert/conformance/target"
)

// Env is what every spec works against: the target as declared, and the drivers to reach it.
type Env struct {
	Target  *target.Target
	Catalog *catalog.Catalog
	HTTP    *driver.Client
	// GRPC is nil when the target has no gRPC endpoint.
	GRPC *grpcdriver.Client
	// Seed fixes every random choice of a run (prompts, arrival schedules, spec order).
	Seed int64
	// Nonce is mixed into every prompt so that no two runs send the same prompt, even with one
	// seed (a rerun against a warm cache would otherwise find its "fresh" prompts cached). Empty
	// only in tests that want the seed alone to fix the prompts.
	Nonce string
	// Chaos drives the fault proxies on the runtime's dependency links; nil when the run cannot
	// inject faults (the Resilience profile then does not run).
	Chaos *fault.Engine
	// Nodes kills and restarts the runtime's parts; nil when the harness does not control them
	// (a remote target): worker loss is then a cut of the worker's link.
	Nodes fault.Nodes
}

// env is the environment of the current run, set once by Run before any spec runs.
var env *Env

// rng returns a generator seeded from the run's seed and a spec-specific stream, so each spec's
// prompts are reproducible and independent of spec order.
func rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(env.Seed), stream))
}

// Req labels a spec with the requirements it checks and their profiles and features, from the
// catalogue, so selection by profile and feature needs no list kept by hand.
func Req(ids ...string) ginkgo.Labels {
	c := catalog.MustLoad()
	var labels ginkgo.Labels
	for _, id := range ids {
		q, err := c.Requirement(id)
		if err != nil {
			panic(fmt.Sprintf("suites: spec labelled with %v", err))
		}
		labels = append(labels, "req:"+id, "profile:"+q.Profile, "feature:"+q.Feature)
	}
	return labels
}
