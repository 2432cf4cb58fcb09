package main

import (
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aruntime/arcert/chaos/containers"
	"github.com/aruntime/arcert/conformance/catalog"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/grpcdriver"
	"github.com/aruntime/arcert/conformance/plan"
	"github.com/aruntime/arcert/conformance/report"
	"github.com/aruntime/arcert/conformance/target"
	"github.com/aruntime/arcert/fixtures/targets"
	"github.com/aruntime/arcert/suites"
)

type certifyFlags struct {
	target     string
	profiles   []string
	focus      []string
	out        string
	embedded   bool
	containers bool
	variant    string
	runtimeLog string
	seed       int64
	nonce      string
	verbose    bool
	noColor    bool
	timeout    time.Duration
	// connsPerRouter bounds the harness's connections to each router (driver.WithMaxConnsPerRouter).
	connsPerRouter int
}

// resilienceProfile is the profile whose specs inject faults.
const resilienceProfile = "resilience"

// errMustFailed makes certify exit non-zero after it wrote its report.
var errMustFailed = errors.New("MUST requirements did not pass")

func certifyCommand() *cobra.Command {
	f := certifyFlags{}
	cmd := &cobra.Command{
		Use:   "certify",
		Short: "Certify a runtime against the profiles of the requirement catalogue",
		Long: `certify runs the conformance suites against the runtime a target file describes and writes
report.json, junit.xml, summary.md and report.html (one self-contained page with plots) into
--out. While it runs it prints a line per spec as it ends ([profile done/total] requirement result
time), and on a terminal a status line with the running requirement, the elapsed time and what is
left of each profile. It exits 1 when any MUST requirement of the selected profiles does not
pass (NOT_SUPPORTED, for a feature the target does not declare, is reported but is not a
failure).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return certify(cmd, f) },
	}
	cmd.Flags().StringVar(&f.target, "target", "", "the target file (the runtime's Runtime Decision Record)")
	cmd.Flags().StringArrayVar(&f.profiles, "profile", nil, "profile to certify (repeatable); default: every implemented profile")
	cmd.Flags().StringArrayVar(&f.focus, "focus", nil, "run only the specs of this requirement id (repeatable)")
	cmd.Flags().StringVar(&f.out, "out", "arcert-report", "directory for report.json, junit.xml, summary.md and report.html")
	cmd.Flags().BoolVar(&f.embedded, "embedded", false, "start the embedded reference runtime and certify it with its own target")
	cmd.Flags().BoolVar(&f.containers, "containers", false, "deploy the reference runtime as one container per role (Docker) and certify it with its own target")
	cmd.Flags().StringVar(&f.variant, "variant", "", "with --embedded: run this variant of the reference runtime (a negative control, or a conformant variant) instead of it")
	cmd.Flags().StringVar(&f.runtimeLog, "runtime-log", "", "with --embedded: write the embedded runtime's log (text, info level) to this file")
	cmd.Flags().Int64Var(&f.seed, "seed", 1, "seed for prompts, arrival schedules and spec order")
	cmd.Flags().StringVar(&f.nonce, "nonce", "", "mixed into every prompt so no run resends another's (default: random; give a report's nonce to resend its exact prompts)")
	cmd.Flags().BoolVar(&f.verbose, "verbose", false, "print every spec as it runs")
	cmd.Flags().BoolVar(&f.noColor, "no-color", false, "no terminal colours")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 15*time.Minute, "give up on the whole run after this long")
	// Hidden: it exists to test the harness's own gate (fixtures/negative): a spec in which a
	// request waited for one of these connections is INVALID (suites/held.go).
	cmd.Flags().IntVar(&f.connsPerRouter, "max-conns-per-router", driver.MaxConnsPerHost,
		"connections the harness opens to each router at most (for tests of the harness: a spec in which a request waited for one is INVALID)")
	_ = cmd.Flags().MarkHidden("variant")
	_ = cmd.Flags().MarkHidden("max-conns-per-router")
	return cmd
}

func certify(cmd *cobra.Command, f certifyFlags) error {
	stderr := cmd.ErrOrStderr()
	cat := catalog.MustLoad()
	defaulted := len(f.profiles) == 0
	if defaulted {
		for _, p := range cat.Profiles {
			if p.Implemented() {
				f.profiles = append(f.profiles, p.Name)
			}
		}
	}
	if f.connsPerRouter < 1 {
		return fmt.Errorf("--max-conns-per-router is %d; it must be at least 1", f.connsPerRouter)
	}
	choice := runtimeChoice{target: f.target, embedded: f.embedded, containers: f.containers, variant: f.variant, runtimeLog: f.runtimeLog}
	if err := choice.check(); err != nil {
		return err
	}
	// Every profile by default; but a target with no dependency links gives the Resilience
	// profile nothing to cut. Asked for by name, that is an error; by default, the profile is
	// reported NOT_SUPPORTED with the reason and the others run.
	runProfiles, unsupported := f.profiles, map[string]string(nil)
	if defaulted && f.target != "" && slices.Contains(f.profiles, resilienceProfile) && !targetHasDependencies(f.target) {
		runProfiles = slices.DeleteFunc(slices.Clone(f.profiles), func(p string) bool { return p == resilienceProfile })
		unsupported = map[string]string{resilienceProfile: "the target declares no dependencies, so no fault can be injected on a link (see the dependencies section of the target example)"}
	}
	wantChaos := slices.Contains(runProfiles, resilienceProfile)
	t, chaos, stop, err := startRuntime(cmd.Context(), stderr, choice, wantChaos)
	if f.containers && errors.Is(err, containers.ErrUnavailable) {
		// Without Docker nothing of the deployment can be certified: say so per requirement.
		fmt.Fprintf(stderr, "arcert: %v: every requirement is reported NOT_SUPPORTED\n", err)
		unsupported := map[string]string{}
		for _, p := range f.profiles {
			unsupported[p] = "no containerized deployment: " + err.Error()
		}
		t, err = target.Parse(targets.ContainersName, targets.ContainersYAML)
		if err != nil {
			return err
		}
		return writeReport(cmd, f, cat, t, nil, time.Now(), unsupported)
	}
	if err != nil {
		return err
	}
	defer stop()
	if err := featureConflicts(stderr, t); err != nil {
		return err
	}
	if err := runPreflight(cmd.Context(), stderr, t); err != nil {
		return err
	}
	if why, ok := unsupported[resilienceProfile]; ok {
		fmt.Fprintf(stderr, "arcert: the %s profile is reported NOT_SUPPORTED: %s\n", resilienceProfile, why)
	}
	reqs := cat.InProfiles(runProfiles...)
	if f.nonce == "" {
		f.nonce = newNonce()
	}
	fmt.Fprintf(stderr, "arcert: certifying %s at %s: profiles %s, %d requirements, seed %d, nonce %s\n",
		t.Implementation, routersWord(t), strings.Join(runProfiles, ", "), len(reqs), f.seed, f.nonce)
	if ex := excludedIDs(cat, t); len(ex) > 0 {
		fmt.Fprintf(stderr, "arcert: %d requirements are NOT_SUPPORTED with these declarations (%s); `arcert target validate` says why\n",
			len(ex), strings.Join(ex, ", "))
	}
	env := &suites.Env{Target: t, Catalog: cat, HTTP: httpClient(t, f.connsPerRouter), Seed: f.seed, Nonce: f.nonce}
	if chaos != nil {
		env.Chaos, env.Nodes = chaos.Engine, chaos.Nodes
	}
	if t.Endpoints.GRPC != "" {
		if env.GRPC, err = grpcdriver.New(t.Endpoints.GRPC, t.Endpoints.GRPCAddrs()[1:]...); err != nil {
			return err
		}
		defer func() { _ = env.GRPC.Close() }()
	}
	started := time.Now()
	records, err := suites.Run(suites.Options{
		Env:      env,
		Profiles: runProfiles, Focus: f.focus, Exclude: excludedIDs(cat, t), Verbose: f.verbose, NoColor: f.noColor || !isTerminal(os.Stdout), Timeout: f.timeout,
		Out: cmd.OutOrStdout(), Live: isTerminal(os.Stdout) && os.Getenv("CI") == "",
	})
	if err != nil {
		return err
	}
	return writeReport(cmd, f, cat, t, records, started, unsupported)
}

// targetHasDependencies reports whether the target file declares a dependency link; a file that
// does not load says yes, so that loading it reports the mistake where it belongs.
func targetHasDependencies(file string) bool {
	t, err := target.Load(file)
	return err != nil || len(t.Dependencies) > 0
}

// writeReport judges the spec records, writes the report and prints its summary; it fails when
// a MUST requirement did not pass.
func writeReport(cmd *cobra.Command, f certifyFlags, cat *catalog.Catalog, t *target.Target, records []report.SpecRecord, started time.Time, unsupported map[string]string) error {
	rep := report.Compute(report.Inputs{
		Catalog: cat, Profiles: f.profiles, Focus: f.focus, Declares: t.Declares, Specs: records,
		Implementation: t.Implementation, HarnessVersion: version, Target: report.Target{Source: t.Source, Digest: t.Digest, Endpoints: reached(t, records)},
		Seed: f.seed, Nonce: f.nonce, Started: started, Duration: time.Since(started), Unsupported: unsupported,
		Excluded: plan.Excluded(cat, t),
	})
	if err := report.WriteAll(f.out, rep); err != nil {
		return err
	}
	failures, err := report.WriteFailureLog(f.out, records)
	if err != nil {
		return err
	}
	printSummary(cmd.OutOrStdout(), rep, f.out)
	if failures != "" {
		fmt.Fprintf(cmd.OutOrStdout(), "  failures: %s (every failed check in full, with where it failed)\n", failures)
	}
	if fails := rep.MustFailures(); len(fails) > 0 {
		return fmt.Errorf("%d %w (see %s)", len(fails), errMustFailed, f.out)
	}
	return nil
}

// isTerminal reports whether f is a terminal, where colours help; in logs and CI they are noise.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func variantNote(v string) string {
	if v == "" {
		return ""
	}
	return " as variant " + v
}

// printSummary prints the per-profile results and every requirement that did not pass, each
// with the line that decided it.
func printSummary(w io.Writer, rep *report.Report, dir string) {
	fmt.Fprintf(w, "\narcert %s: %s in %.1f s\n", rep.HarnessVersion, rep.Implementation, rep.DurationSecs)
	for _, p := range rep.Profiles {
		fmt.Fprintf(w, "  profile %-10s %-8s %s\n", p.Name, p.Result, p.Counted())
	}
	for _, q := range rep.Requirements {
		switch {
		case q.Result != report.Pass:
			fmt.Fprintf(w, "  %-6s %-6s %-13s %s: %s\n", q.ID, q.Level, q.Result, q.Title, q.Note)
			if last := lastEvidence(q); last != "" {
				fmt.Fprintf(w, "         evidence: %s\n", last)
			}
		case q.BasisLabel() != "": // a PASS not wholly measured says so
			fmt.Fprintf(w, "  %-6s %-6s %-13s %s: %s\n", q.ID, q.Level, q.Result, q.Title, q.BasisLabel())
		}
	}
	var counts []string
	for _, r := range []report.Result{report.Pass, report.Fail, report.Invalid, report.Inconclusive, report.NotSupported, report.NotRun} {
		if n := rep.Counts[r]; n > 0 {
			counts = append(counts, fmt.Sprintf("%s %d", r, n))
		}
	}
	fmt.Fprintf(w, "  counts: %s\n  report: %s/{%s,%s,%s,%s}\n", strings.Join(counts, ", "), dir,
		report.JSONFile, report.JUnitFile, report.SummaryFile, report.HTMLFile)
}

// newNonce is a run's own random word for its prompts (Env.Nonce).
func newNonce() string {
	var b [6]byte
	_, _ = cryptorand.Read(b[:]) // crypto/rand.Read never fails on Linux; a zero nonce is still a valid one
	return hex.EncodeToString(b[:])
}

// lastEvidence is the line a failed, invalid or inconclusive requirement's specs recorded last
// (their conclusion), shown under its note; a pass or an unsupported requirement has none to show.
func lastEvidence(q report.Requirement) string {
	if q.Result == report.Pass || q.Result == report.NotSupported || q.Result == report.NotRun || len(q.Evidence) == 0 {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(q.Evidence[len(q.Evidence)-1]), "\n")
	if line == q.Note {
		return ""
	}
	return line
}

// excludedIDs are the requirements whose specs certify does not run: their feature is declared,
// but not a field their judgement needs (conformance/plan), so the report says NOT_SUPPORTED.
func excludedIDs(cat *catalog.Catalog, t *target.Target) []string {
	var ids []string
	for id := range plan.Excluded(cat, t) {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// reached is the routers the load was spread over, for the report: every one the target lists,
// or none when no spec ran (a deployment that never came up).
func reached(t *target.Target, records []report.SpecRecord) []string {
	if len(records) == 0 {
		return nil
	}
	return t.Endpoints.HTTPURLs()
}
