package suites

import (
	"fmt"
	"math/rand/v2"

	"github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/catalog"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/grpcdriver"
	"github.com/aruntime/arcert/conformance/report"
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

// Report entry names through which specs pass verdicts and evidence to the report.
const (
	entryVerdict  = "arcert.verdict"
	entryEvidence = "arcert.evidence"
	entrySamples  = "arcert.samples"
	entryUnprobed = "arcert.unprobed"
)

// inconclusive records that a control failed: the spec's check could not be judged. The spec
// must return right after.
func inconclusive(format string, args ...any) {
	ginkgo.AddReportEntry(entryVerdict, string(report.Inconclusive)+": "+fmt.Sprintf(format, args...), ginkgo.ReportEntryVisibilityAlways)
}

// invalid records that a validity gate failed (too few samples, too little load).
func invalid(format string, args ...any) {
	ginkgo.AddReportEntry(entryVerdict, string(report.Invalid)+": "+fmt.Sprintf(format, args...), ginkgo.ReportEntryVisibilityAlways)
}

// evidence records a measured figure or an observation behind a result.
func evidence(format string, args ...any) {
	ginkgo.AddReportEntry(entryEvidence, fmt.Sprintf(format, args...), ginkgo.ReportEntryVisibilityFailureOrVerbose)
}

// judged records that the spec judged n samples on path, one of the paths the catalogue lists for
// the requirement (optionally narrowed: "tenant:acme" counts for "tenant"). The report refuses a
// PASS that rests on no sample, or that left one of the listed paths unprobed and unexplained.
// Record what was judged, not what was sent: a probe whose answer decided nothing is no sample.
func judged(path string, n int) {
	if n <= 0 {
		return
	}
	ginkgo.AddReportEntry(entrySamples, fmt.Sprintf("%s\t%d", path, n), ginkgo.ReportEntryVisibilityNever)
}

// judgedFor is judged for one requirement of a spec that checks several, when the samples bear on
// that one only.
func judgedFor(id, path string, n int) { judged(id+report.ForRequirement+path, n) }

// notProbed records why the spec could not probe one of the requirement's catalogue paths (the
// target declares no gRPC endpoint, one tenant only…); the report names it beside the PASS.
func notProbed(path, format string, args ...any) {
	ginkgo.AddReportEntry(entryUnprobed, path+"\t"+fmt.Sprintf(format, args...), ginkgo.ReportEntryVisibilityNever)
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
