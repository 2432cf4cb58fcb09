package suites

import (
	"fmt"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/report"
)

// Specs hand the report what they found through Ginkgo report entries, one value type per kind:
// Run reads each back by its type (records), in the same process, so nothing is written as a
// string and parsed again. Each type's String is what Ginkgo prints for it.

// Report entry names, for Ginkgo's own output; records tells the kinds apart by their types.
const (
	entryVerdict  = "arcert.verdict"
	entryEvidence = "arcert.evidence"
	entrySamples  = "arcert.samples"
	entryUnprobed = "arcert.unprobed"
	// entryPlot carries a plot for report.html: the numbers a check judged, so a reader sees
	// what the evidence line summarises.
	entryPlot = "arcert.plot"
	// entryFault carries a fault window the spec injected.
	entryFault = "arcert.fault"
)

// verdict is a spec's result when a control or a validity gate stopped it from judging
// (INCONCLUSIVE, INVALID), and why.
type verdict struct {
	Verdict report.Result
	Message string
}

func (v verdict) String() string { return string(v.Verdict) + ": " + v.Message }

// evidenceLine is a measured figure or an observation behind a result, for people.
type evidenceLine string

func (e evidenceLine) String() string { return string(e) }

// samples counts what a spec judged on one catalogue path (narrowed, "tenant:acme", or for one
// requirement, "ID"+report.ForRequirement+path).
type samples struct {
	Path string
	N    int
}

func (s samples) String() string { return fmt.Sprintf("%d judged on %s", s.N, s.Path) }

// unprobed says why a spec could not probe one of its requirement's catalogue paths.
type unprobed struct {
	Path string
	Why  string
}

func (u unprobed) String() string { return u.Path + " not probed: " + u.Why }

// plotted is a figure for report.html; Ginkgo prints only its title.
type plotted struct{ report.Plot }

func (p plotted) String() string { return "plot: " + p.Title }

// faultHeld is a fault window a spec injected, so the report lines outcomes up with it.
type faultHeld struct{ fault.Window }

func (f faultHeld) String() string {
	at := string(f.Role)
	if f.Name != "" {
		at += " " + f.Name
	}
	if f.Part != "" {
		at += " (" + f.Part + ")"
	}
	held := "still held"
	if !f.End.IsZero() {
		held = "for " + f.End.Sub(f.Start).Round(time.Millisecond).String()
	}
	return fmt.Sprintf("%s on %s at %s, %s", f.Fault, at, f.Start.Format(time.TimeOnly), held)
}

// inconclusive records that a control failed: the spec's check could not be judged. The spec
// must return right after.
func inconclusive(format string, args ...any) {
	ginkgo.AddReportEntry(entryVerdict, verdict{report.Inconclusive, fmt.Sprintf(format, args...)}, ginkgo.ReportEntryVisibilityAlways)
}

// invalid records that a validity gate failed (too few samples, too little load).
func invalid(format string, args ...any) {
	ginkgo.AddReportEntry(entryVerdict, verdict{report.Invalid, fmt.Sprintf(format, args...)}, ginkgo.ReportEntryVisibilityAlways)
}

// evidence records a measured figure or an observation behind a result.
func evidence(format string, args ...any) {
	ginkgo.AddReportEntry(entryEvidence, evidenceLine(fmt.Sprintf(format, args...)), ginkgo.ReportEntryVisibilityFailureOrVerbose)
}

// judged records that the spec judged n samples on path, one of the paths the catalogue lists for
// the requirement (optionally narrowed: "tenant:acme" counts for "tenant"). The report refuses a
// PASS that rests on no sample, or that left one of the listed paths unprobed and unexplained.
// Record what was judged, not what was sent: a probe whose answer decided nothing is no sample.
func judged(path string, n int) {
	if n <= 0 {
		return
	}
	ginkgo.AddReportEntry(entrySamples, samples{path, n}, ginkgo.ReportEntryVisibilityNever)
}

// judgedFor is judged for one requirement of a spec that checks several, when the samples bear on
// that one only.
func judgedFor(id, path string, n int) { judged(id+report.ForRequirement+path, n) }

// notProbed records why the spec could not probe one of the requirement's catalogue paths (the
// target declares no gRPC endpoint, one tenant only…); the report names it beside the PASS.
func notProbed(path, format string, args ...any) {
	ginkgo.AddReportEntry(entryUnprobed, unprobed{path, fmt.Sprintf(format, args...)}, ginkgo.ReportEntryVisibilityNever)
}

// plot records p for report.html. It is never printed: the page draws it.
func plot(p report.Plot) {
	ginkgo.AddReportEntry(entryPlot, plotted{p}, ginkgo.ReportEntryVisibilityNever)
}

// recordWindow puts a fault window in the report.
func recordWindow(w fault.Window) {
	ginkgo.AddReportEntry(entryFault, faultHeld{w}, ginkgo.ReportEntryVisibilityNever)
}
