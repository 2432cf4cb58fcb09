// Package suites holds arcert's Ginkgo specs, in ordinary (non-test) files so that the arcert
// binary runs them (`arcert certify`) as well as `go test`. Every spec is labelled with the
// requirements it checks (req:ID), their profiles and features; Run selects by profile and by the
// features the target declares, then hands the spec outcomes to conformance/report as plain data.
package suites

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/aruntime/arcert/conformance/catalog"
	"github.com/aruntime/arcert/conformance/report"
)

// Options choose what Run runs.
type Options struct {
	Env      *Env
	Profiles []string
	// Focus, when set, runs only the specs of these requirement ids.
	Focus []string
	// Exclude names requirements whose specs must not run: the target declares their feature
	// but not a field their judgement needs (conformance/plan), so they are NOT_SUPPORTED.
	Exclude []string
	Verbose bool
	// NoColor turns off terminal colours (for logs and CI).
	NoColor bool
	Timeout time.Duration
	// Out receives the progress lines (nil: none); Live redraws a status line on it, for a
	// terminal. Verbose leaves the output to Ginkgo instead.
	Out  io.Writer
	Live bool
}

// failer is the GinkgoTestingT RunSpecs reports to; the report, not this flag, decides results.
type failer struct{ failed bool }

func (f *failer) Fail() { f.failed = true }

// collected is the suite report, captured by a ReportAfterSuite node.
var collected types.Report

// Run runs the selected specs once. Ginkgo's suite is global to the process, so Run may be called
// once per process; the arcert binary does exactly that.
func Run(o Options) ([]report.SpecRecord, error) {
	if o.Env == nil || o.Env.Target == nil {
		return nil, fmt.Errorf("suites: no target")
	}
	env = o.Env
	filter, err := LabelFilter(o.Env.Catalog, o.Profiles, o.Env.Target.Declares, o.Focus)
	if err != nil {
		return nil, err
	}
	filter = excluding(filter, o.Exclude)
	suiteCfg, reporterCfg := ginkgo.GinkgoConfiguration()
	suiteCfg.LabelFilter = filter
	suiteCfg.RandomSeed = o.Env.Seed
	suiteCfg.Timeout = o.Timeout
	reporterCfg.NoColor = o.NoColor
	reporterCfg.Succinct = !o.Verbose
	reporterCfg.Verbose = o.Verbose
	gomega.RegisterFailHandler(ginkgo.Fail)
	ginkgo.ReportAfterSuite("arcert: collect spec outcomes", func(r ginkgo.Report) { collected = r })
	if o.Out != nil && !o.Verbose {
		// The preview walks the tree without running a spec, so each profile's count is known
		// before the first one starts. It runs on a copy of the suite that keeps top-level
		// containers only, so the reporting nodes are added after it.
		p := newProgress(o.Out, o.Live, o.Profiles, specsPerProfile(ginkgo.PreviewSpecs("arcert certification", suiteCfg, reporterCfg)))
		defer p.finish()
		collected = types.Report{} // the preview's report says every spec passed: never judge it
		ginkgo.ReportBeforeEach(p.began)
		ginkgo.ReportAfterEach(p.ended)
		// Ginkgo's succinct output is a dot per spec; the progress lines replace it.
		quiet := formatter.ColorableStdOut
		formatter.ColorableStdOut = io.Discard
		defer func() { formatter.ColorableStdOut = quiet }()
	}
	watchHeld()
	ginkgo.RunSpecs(&failer{}, "arcert certification", suiteCfg, reporterCfg)
	return records(collected)
}

// specsPerProfile counts the specs a preview says will run, by profile.
func specsPerProfile(r types.Report) map[string]int {
	out := map[string]int{}
	for _, s := range r.SpecReports {
		if counts(s) {
			out[profileOf(s)]++
		}
	}
	return out
}

// LabelFilter selects the specs of the given profiles whose features the target declares,
// narrowed to the focused requirements if any. Specs of undeclared features never run: their
// requirements are reported NOT_SUPPORTED from the catalogue, never skipped inside a spec.
func LabelFilter(c *catalog.Catalog, profiles []string, declares func(string) bool, focus []string) (string, error) {
	if len(profiles) == 0 {
		return "", fmt.Errorf("suites: no profile selected")
	}
	var prof []string
	for _, p := range profiles {
		pr, err := c.Profile(p)
		if err != nil {
			return "", err
		}
		if !pr.Implemented() {
			return "", fmt.Errorf("suites: profile %q has no suites yet (status %s)", p, pr.Status)
		}
		prof = append(prof, "profile:"+p)
	}
	undeclared := map[string]bool{}
	for _, q := range c.Requirements {
		if !declares(q.Feature) {
			undeclared["feature:"+q.Feature] = true
		}
	}
	parts := []string{"(" + strings.Join(prof, " || ") + ")"}
	if len(undeclared) > 0 {
		names := make([]string, 0, len(undeclared))
		for n := range undeclared {
			names = append(names, n)
		}
		sort.Strings(names)
		parts = append(parts, "!("+strings.Join(names, " || ")+")")
	}
	if len(focus) > 0 {
		var reqs []string
		for _, id := range focus {
			if _, err := c.Requirement(id); err != nil {
				return "", err
			}
			reqs = append(reqs, "req:"+id)
		}
		parts = append(parts, "("+strings.Join(reqs, " || ")+")")
	}
	return strings.Join(parts, " && "), nil
}

// failureText is a failed spec's whole message; a panic, a harness bug rather than a finding
// about the runtime, says so first.
func failureText(f types.Failure) string {
	if f.ForwardedPanic != "" {
		return "the check panicked, a harness bug: " + firstLineOf(f.ForwardedPanic) + "\n" + f.Message
	}
	return f.Message + whereItWaited(f.ProgressReport)
}

// whereItWaited is, for a spec that timed out or was interrupted, the module's own frames (the
// harness's, chaos's, the drivers') of the spec's goroutine and of the other goroutines running
// the module's code at that moment, identical stacks once with their count, at most
// waitedStacks of them: "A spec timeout occurred" alone does not say which wait never ended.
// Empty for any other failure.
func whereItWaited(pr types.ProgressReport) string {
	if pr.IsZero() {
		return ""
	}
	var b strings.Builder
	if pr.CurrentStepText != "" {
		fmt.Fprintf(&b, "\nat step %q", pr.CurrentStepText)
	}
	var order []string
	count := map[string]int{}
	for _, g := range pr.Goroutines {
		stack := ownFrames(g)
		if stack == "" {
			continue
		}
		who := "a goroutine"
		if g.IsSpecGoroutine {
			who = "the spec's goroutine"
		}
		key := fmt.Sprintf("%s (%s) was in:%s", who, g.State, stack)
		if count[key] == 0 {
			order = append(order, key)
		}
		count[key]++
	}
	// The spec's own goroutine first, then the stacks most goroutines share.
	sort.SliceStable(order, func(i, j int) bool {
		si, sj := strings.HasPrefix(order[i], "the spec's"), strings.HasPrefix(order[j], "the spec's")
		return si && !sj || si == sj && count[order[i]] > count[order[j]]
	})
	for i, key := range order {
		if i == waitedStacks {
			fmt.Fprintf(&b, "\n(and %d more stacks)", len(order)-waitedStacks)
			break
		}
		if n := count[key]; n > 1 {
			key = strings.Replace(key, "a goroutine", fmt.Sprintf("%d goroutines", n), 1)
			key = strings.Replace(key, " was in:", " were in:", 1)
		}
		b.WriteString("\n" + key)
	}
	return b.String()
}

// waitedStacks bounds the stacks whereItWaited lists: a load run has hundreds of goroutines.
const waitedStacks = 8

// ownModule is the prefix of the functions whereItWaited shows.
const ownModule = "github.com/aruntime/arcert/"

// ownFrames lists g's frames in the module's own code, innermost first, one a line.
func ownFrames(g types.Goroutine) string {
	var b strings.Builder
	for _, fc := range g.Stack {
		if strings.HasPrefix(fc.Function, ownModule) {
			fmt.Fprintf(&b, "\n  %s at %s:%d", strings.TrimPrefix(fc.Function, ownModule), fc.Filename, fc.Line)
		}
	}
	return b.String()
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// excluding narrows filter so that no spec of the requirements ids runs.
func excluding(filter string, ids []string) string {
	if len(ids) == 0 {
		return filter
	}
	return filter + " && !(req:" + strings.Join(ids, " || req:") + ")"
}

// records converts Ginkgo's spec reports into the report package's plain records.
func records(r types.Report) ([]report.SpecRecord, error) {
	var out []report.SpecRecord
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		rec := report.SpecRecord{Name: s.FullText(), Duration: s.RunTime}
		for _, l := range s.Labels() {
			if id, ok := strings.CutPrefix(l, "req:"); ok {
				rec.Requirements = append(rec.Requirements, id)
			}
		}
		switch {
		case s.State.Is(types.SpecStatePassed):
			rec.State = report.SpecPassed
		case s.State.Is(types.SpecStateSkipped | types.SpecStatePending):
			rec.State = report.SpecSkipped
			// A spec of an ordered container whose setup failed is skipped with Ginkgo's reason:
			// kept, so the report does not say it was never selected.
			rec.Message = s.Failure.Message
		default:
			rec.State = report.SpecFailed
			rec.Message, rec.Location = failureText(s.Failure), s.Failure.Location.String()
		}
		if err := readEntries(&rec, s); err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// readEntries adds what the spec recorded through report entries to rec. Run runs every spec in
// this process, so each entry still holds the value the spec gave it; one that does not (a
// report rebuilt from JSON, a parallel run) is refused rather than read as no verdict, which
// would turn an INVALID run into a PASS.
func readEntries(rec *report.SpecRecord, s types.SpecReport) error {
	var held *heldBack
	defer func() {
		if held != nil && rec.State != report.SpecSkipped {
			overrideHeld(rec, *held)
		}
	}()
	for _, e := range s.ReportEntries {
		switch v := e.Value.GetRawValue().(type) {
		case heldBack:
			held = &v
		case verdict:
			if rec.State == report.SpecPassed {
				rec.Verdict, rec.Message = v.Verdict, v.Message
			}
		case evidenceLine:
			rec.Evidence = append(rec.Evidence, string(v))
		case samples:
			if rec.Samples == nil {
				rec.Samples = map[string]int{}
			}
			rec.Samples[v.Path] += v.N
		case unprobed:
			if rec.Unprobed == nil {
				rec.Unprobed = map[string]string{}
			}
			rec.Unprobed[v.Path] = v.Why
		case plotted:
			rec.Plots = append(rec.Plots, v.Plot)
		case faultHeld:
			rec.Faults = append(rec.Faults, report.FaultWindow{Role: string(v.Role), Name: v.Name, Part: v.Part, Fault: v.Fault.String(), Start: v.Start, End: v.End})
		default:
			if strings.HasPrefix(e.Name, "arcert.") {
				return fmt.Errorf("suites: spec %q: report entry %s holds a %T, not the value the spec recorded", s.FullText(), e.Name, v)
			}
		}
	}
	return nil
}
