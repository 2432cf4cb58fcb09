package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/aruntime/arcert/gameday/journal"
	"github.com/aruntime/arcert/gameday/spec"
)

// Exit codes of `arcert gameday run`, so a pipeline can tell a runtime that deviated from a day
// that could not be judged.
const (
	exitDeviated = 1 // an expectation, the residue check or the recovery failed; or the harness errored
	exitInvalid  = 2 // the scenario is wrong, or the day could not be judged (no steady state)
	exitAborted  = 3 // an abort rule fired (error budget, deadline, invariant, operator, signal)
	exitResidue  = 4 // rollback left something broken: look now, whatever else happened
)

// exitError carries an exit code out of a command; main prints it and exits with its code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// abortFile is the file in a running day's --out directory that `arcert gameday abort` writes and
// the running day watches: the operator's abort, through nothing but the file system.
const abortFile = "ABORT"

func gamedayCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gameday",
		Short: "Run a chaos game day from a scenario file, and validate, inspect or abort one",
		Long: "A game day drives seeded load at a runtime, breaks its dependencies on a schedule, watches what\n" +
			"tenants see, stops when the damage passes a budget, always puts things back, and writes a journal,\n" +
			"the request ledger, a summary, JUnit and an HTML timeline.",
	}
	cmd.AddCommand(gamedayRunCommand(), gamedayValidateCommand(), gamedaySchemaCommand(), gamedayReportCommand(), gamedayAbortCommand())
	return cmd
}

func gamedayValidateCommand() *cobra.Command {
	var c runtimeChoice
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a scenario file against its schema and its target; print every mistake as FILE:LINE: field: message",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			override, err := targetOverride(c)
			if err != nil {
				return err
			}
			if errs := spec.Validate(args[0], override); len(errs) > 0 {
				for _, e := range errs {
					fmt.Fprintln(cmd.ErrOrStderr(), e)
				}
				return &exitError{code: exitInvalid, err: fmt.Errorf("%s: %d mistakes", args[0], len(errs))}
			}
			f, err := spec.Load(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid: %q, %d phases over %s, %d faults\n",
				args[0], f.Metadata.Name, len(f.Spec.Phases), f.Spec.Duration(), len(f.Spec.Faults))
			return nil
		},
	}
	targetFlags(cmd, &c)
	return cmd
}

func gamedaySchemaCommand() *cobra.Command {
	return &cobra.Command{
		Use: "schema", Short: "Print the JSON Schema of scenario files", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(spec.Schema())
			return err
		},
	}
}

func gamedayAbortCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "abort DIR",
		Short: "Abort the game day writing to DIR (its --out): it stops within a second, rolls back and checks residue",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if _, err := os.Stat(filepath.Join(dir, journal.LedgerFile)); err != nil {
				return fmt.Errorf("no game day writes to %s: %w", dir, err)
			}
			if _, err := os.Stat(filepath.Join(dir, journal.JournalFile)); err == nil {
				return fmt.Errorf("the game day in %s has already ended (its %s is written)", dir, journal.JournalFile)
			}
			if err := os.WriteFile(filepath.Join(dir, abortFile), []byte(reason+"\n"), 0o600); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "abort requested: the game day in %s stops within a second and rolls back\n", dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "aborted by the operator", "why, for the journal")
	return cmd
}

// targetFlags adds the flags that choose the runtime, overriding the scenario's own target.
func targetFlags(cmd *cobra.Command, c *runtimeChoice) {
	cmd.Flags().StringVar(&c.target, "target", "", "run against the runtime this target file describes (overrides the scenario's target)")
	cmd.Flags().BoolVar(&c.embedded, "embedded", false, "run against the embedded reference runtime (overrides the scenario's target)")
	cmd.Flags().BoolVar(&c.containers, "containers", false, "run against the reference runtime deployed as containers (overrides the scenario's target)")
}

// targetOverride is the command line's target choice, nil when it names none.
func targetOverride(c runtimeChoice) (*spec.TargetChoice, error) {
	n := 0
	var out *spec.TargetChoice
	if c.target != "" {
		n, out = n+1, &spec.TargetChoice{Kind: spec.TargetFile, Path: c.target}
	}
	if c.embedded {
		n, out = n+1, &spec.TargetChoice{Kind: spec.TargetEmbedded}
	}
	if c.containers {
		n, out = n+1, &spec.TargetChoice{Kind: spec.TargetContainers}
	}
	if n > 1 {
		return nil, errors.New("choose one of --target, --embedded and --containers")
	}
	return out, nil
}

// choiceOf turns the scenario's (or the command line's) target into what startRuntime takes.
func choiceOf(tc spec.TargetChoice) runtimeChoice {
	switch tc.Kind {
	case spec.TargetEmbedded:
		return runtimeChoice{embedded: true}
	case spec.TargetContainers:
		return runtimeChoice{containers: true}
	}
	return runtimeChoice{target: tc.Path}
}

// elapsedText renders a duration for the closing lines.
func elapsedText(d time.Duration) string { return d.Round(100 * time.Millisecond).String() }
