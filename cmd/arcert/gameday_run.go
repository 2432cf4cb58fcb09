package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/target"
	"github.com/aruntime/arcert/gameday/journal"
	"github.com/aruntime/arcert/gameday/page"
	"github.com/aruntime/arcert/gameday/spec"
)

type gamedayRunFlags struct {
	choice        runtimeChoice
	out           string
	seed          int64
	metricsListen string
	grace         time.Duration
}

func gamedayRunCommand() *cobra.Command {
	f := gamedayRunFlags{}
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run the game day a scenario file describes and write its journal, ledger, summary, JUnit and report.html",
		Long: "Runs a game day. Whatever happens (success, a failed expectation, an abort rule, Ctrl-C, a panic),\n" +
			"every fault is rolled back, the residue is checked, and the steady state is checked again.\n" +
			"Exit codes: 0 completed, 1 deviated or errored, 2 invalid, 3 aborted, 4 rollback left residue.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return gamedayRun(cmd, args[0], f) },
	}
	targetFlags(cmd, &f.choice)
	cmd.Flags().StringVar(&f.out, "out", "arcert-gameday", "directory for journal.json, ledger.jsonl, summary.md, junit.xml and report.html")
	cmd.Flags().Int64Var(&f.seed, "seed", 0, "seed for arrivals, selector picks and prompts (default: the scenario's)")
	cmd.Flags().StringVar(&f.metricsListen, "metrics-listen", "", "serve the day's Prometheus metrics on this address (e.g. 127.0.0.1:9464)")
	cmd.Flags().StringVar(&f.choice.variant, "variant", "", "with --embedded: run the day against this negative control instead of the reference runtime")
	_ = cmd.Flags().MarkHidden("variant")
	cmd.Flags().DurationVar(&f.grace, "grace", time.Second, "how far past its deadline a request may end before it counts as hung")
	return cmd
}

func gamedayRun(cmd *cobra.Command, file string, f gamedayRunFlags) error {
	stderr := cmd.ErrOrStderr()
	sf, err := spec.Load(file)
	if err != nil {
		return scenarioMistakes(stderr, file, err)
	}
	choice := sf.TargetChoice()
	if o, err := targetOverride(f.choice); err != nil {
		return err
	} else if o != nil {
		choice = *o
	}
	// Compile against the declared target first, so a wrong scenario is refused before anything starts.
	declared, err := choice.Load()
	if err != nil {
		return &exitError{code: exitInvalid, err: err}
	}
	declaredPlan, err := sf.Plan(declared)
	if err != nil {
		return scenarioMistakes(stderr, file, err)
	}
	if err := prepareOut(f.out); err != nil {
		return err
	}

	// Ctrl-C or SIGTERM aborts the day; the engine rolls back whatever the signal interrupted. A
	// second one kills the process at once (stop restores the default handling).
	ctx, stopSignals := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	go func() {
		<-ctx.Done()
		stopSignals() // from here a second signal gets Go's default handling: the process ends
	}()
	rc := choiceOf(choice)
	rc.variant = f.choice.variant
	t, chaos, stopRuntime, err := startRuntime(ctx, stderr, rc, needsFaultServer(declaredPlan))
	if err != nil {
		return err
	}
	defer stopRuntime()
	plan, err := sf.Plan(t)
	if err != nil {
		return scenarioMistakes(stderr, file, err)
	}
	if err := runPreflight(ctx, stderr, t); err != nil {
		return err
	}
	if f.seed != 0 {
		plan.Seed = f.seed
	}

	lw, err := journal.CreateLedger(f.out)
	if err != nil {
		return err
	}
	var metrics *gamedayMetrics
	if f.metricsListen != "" {
		metrics = newGamedayMetrics()
		addr, err := metrics.serve(ctx, f.metricsListen, stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "arcert: metrics at http://%s/metrics\n", addr)
	}
	if chaos != nil && chaos.Engine != nil {
		fmt.Fprintf(stderr, "arcert: toxiproxy API at %s (toxiproxy-cli -h %s list)\n", chaos.Engine.API(), chaos.Engine.API())
	}
	fmt.Fprintf(stderr, "arcert: game day %q against %s at %s: %d phases over %s, %d fault(s), seed %d; abort with Ctrl-C or `arcert gameday abort %s`\n",
		plan.Name, t.Implementation, routersWord(t), len(plan.Phases), plan.Duration(), len(plan.Faults), plan.Seed, f.out)

	w := newWatcher(stderr, isTerminal(os.Stderr) && os.Getenv("CI") == "", plan, metrics)
	req := newRequester(t, f.grace)
	env := req.env()
	env.Sink, env.Observe = lw.Write, w.observe
	env.CommandEnv = commandEnv(t, chaos)
	if chaos != nil {
		env.Links, env.Nodes = chaos.Engine, chaos.Nodes
	}
	abortCh := make(chan string, 1)
	env.Abort = abortCh
	watchCtx, stopWatching := context.WithCancel(ctx)
	go watchAbortFile(watchCtx, f.out, abortCh, lw)
	outcome := scenario.Run(ctx, plan, env)
	stopWatching()
	w.finish()
	if err := lw.Close(); err != nil && outcome.Error == "" {
		outcome.Status, outcome.Error = scenario.StatusErrored, "writing the ledger: "+err.Error()
	}
	return writeGameday(cmd.OutOrStdout(), f.out, file, t, choice, plan, outcome, lw.Count())
}

// needsFaultServer reports whether a plan has a link or node fault: a day of command faults only
// runs against a remote target that declares no dependency links.
func needsFaultServer(p scenario.Plan) bool {
	for _, f := range p.Faults {
		if f.Command == nil && f.Custom == nil {
			return true
		}
	}
	return false
}

// commandEnv is what a command fault's script is told about the runtime: ARCERT_HTTP and
// ARCERT_GRPC (its endpoints), ARCERT_OPERATOR_KEY (the operator credential the target declares)
// and ARCERT_TOXIPROXY (the fault server's API), so a script can act on the runtime it breaks.
func commandEnv(t *target.Target, chaos *chaosSetup) []string {
	env := []string{"ARCERT_HTTP=" + t.Endpoints.HTTP, "ARCERT_GRPC=" + t.Endpoints.GRPC}
	if t.Operator != nil {
		env = append(env, "ARCERT_OPERATOR_KEY="+t.Operator.Key)
	}
	if chaos != nil && chaos.Engine != nil {
		env = append(env, "ARCERT_TOXIPROXY="+chaos.Engine.API())
	}
	return env
}

// scenarioMistakes prints a scenario's mistakes one per line and returns the invalid exit.
func scenarioMistakes(w io.Writer, file string, err error) error {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		fmt.Fprintln(w, e)
	}
	return &exitError{code: exitInvalid, err: fmt.Errorf("%s: %d mistakes; nothing was started or broken", file, len(errs))}
}

// prepareOut creates the output directory and removes what an earlier day left there: an abort
// request, and its outputs, so a day that stops early (preflight, a runtime that will not start)
// never leaves an earlier day's green junit.xml for a pipeline to read.
func prepareOut(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	for _, name := range []string{abortFile, journal.JournalFile, journal.LedgerFile, journal.SummaryFile, journal.JUnitFile, page.File} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// watchAbortFile passes an operator's abort request (the file `arcert gameday abort` writes) to the
// engine, and flushes the ledger to disk, once a second until ctx ends.
func watchAbortFile(ctx context.Context, dir string, abort chan<- string, lw *journal.LedgerWriter) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_ = lw.Flush()
		raw, err := os.ReadFile(filepath.Join(dir, abortFile)) // #nosec G304 -- the run's own --out directory
		if err != nil {
			continue
		}
		reason := strings.TrimSpace(string(raw))
		if reason == "" {
			reason = "aborted by the operator"
		}
		select {
		case abort <- reason:
		default:
		}
		return
	}
}
