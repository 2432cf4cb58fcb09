package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/target"
	"github.com/aruntime/arcert/gameday/journal"
	"github.com/aruntime/arcert/gameday/page"
	"github.com/aruntime/arcert/gameday/spec"
)

// writeGameday writes the day's journal, summary, JUnit and page, prints how it ended, and turns
// its status into the command's exit.
func writeGameday(w io.Writer, dir, file string, t *target.Target, choice spec.TargetChoice, plan scenario.Plan, o scenario.Outcome, requests int) error {
	scen, err := journal.HashFile(file)
	if err != nil {
		return err
	}
	scen.Name = plan.Name
	tf := journal.File{Name: t.Implementation}
	if choice.Kind == spec.TargetFile && choice.Path != "" {
		if h, err := journal.HashFile(choice.Path); err == nil {
			tf.Path, tf.SHA256 = h.Path, h.SHA256
		}
	}
	j := journal.New(o, version, scen, tf, plan.Recovery)
	if err := journal.WriteAll(dir, j); err != nil {
		return err
	}
	if err := page.Write(dir, j, filepath.Join(dir, journal.LedgerFile)); err != nil {
		return err
	}
	printGameday(w, j, requests, dir)
	return statusExit(o)
}

// printGameday prints the closing lines: status, every check that did not pass, where the files are.
func printGameday(w io.Writer, j journal.Journal, requests int, dir string) {
	o := j.Outcome
	fmt.Fprintf(w, "\ngame day %q: %s after %s, %d requests\n", j.Scenario.Name, o.Status, elapsedText(o.End.Sub(o.Start)), requests)
	if o.Abort != nil {
		fmt.Fprintf(w, "  aborted (%s): %s\n", o.Abort.Rule, o.Abort.Reason)
	}
	for _, c := range journal.Checks(j) {
		if c.Result.Verdict != scenario.Pass {
			name := c.Name
			if c.Phase != "" {
				name += " (" + c.Phase + ")"
			}
			fmt.Fprintf(w, "  %-12s %s: %s\n", c.Result.Verdict, name, c.Result.Message)
		}
	}
	fmt.Fprintf(w, "  residue: %s %s; recovery %s (declared %s): %s\n", o.Residue.Verdict, o.Residue.Message,
		elapsedText(o.Recovery), j.DeclaredRecovery, o.RecoveryResult.Verdict)
	fmt.Fprintf(w, "  wrote %s/{journal.json,ledger.jsonl,summary.md,junit.xml,report.html}\n", dir)
}

// statusExit maps a day's status to the command's exit.
func statusExit(o scenario.Outcome) error {
	if o.ResidueLeft() {
		return &exitError{code: exitResidue, err: fmt.Errorf("rollback left residue, something the day broke is still broken: %s", o.Residue.Message)}
	}
	switch o.Status {
	case scenario.StatusCompleted:
		return nil
	case scenario.StatusAborted:
		return &exitError{code: exitAborted, err: fmt.Errorf("the game day was aborted: %s", abortText(o))}
	case scenario.StatusInvalid:
		return &exitError{code: exitInvalid, err: fmt.Errorf("the game day could not be judged: %s", invalidText(o))}
	case scenario.StatusErrored:
		return &exitError{code: exitDeviated, err: fmt.Errorf("the game day errored: %s", o.Error)}
	}
	return &exitError{code: exitDeviated, err: fmt.Errorf("the runtime deviated from the game day's hypothesis (see the lines above)")}
}

func abortText(o scenario.Outcome) string {
	if o.Abort == nil {
		return "no reason recorded"
	}
	return o.Abort.Rule + ": " + o.Abort.Reason
}

func invalidText(o scenario.Outcome) string {
	if !o.SteadyBefore.Result.OK() && o.SteadyBefore.Result.Verdict != "" {
		return "no steady state before the first phase: " + o.SteadyBefore.Result.Message
	}
	for _, e := range o.Expectations {
		if e.Result.Verdict == scenario.Invalid {
			return e.Result.Message
		}
	}
	return "see the journal"
}

func gamedayReportCommand() *cobra.Command {
	grace := time.Second
	cmd := &cobra.Command{
		Use:   "report DIR",
		Short: "Re-judge a stored game day from its journal and ledger, and rebuild its summary, JUnit and report.html",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			j, err := journal.Read(dir)
			if err != nil {
				return err
			}
			changed, n, err := rejudge(cmd.Context(), &j, filepath.Join(dir, journal.LedgerFile), grace)
			if err != nil {
				return err
			}
			for _, c := range changed {
				fmt.Fprintln(cmd.ErrOrStderr(), "arcert: re-judged:", c)
			}
			if err := journal.WriteAll(dir, j); err != nil {
				return err
			}
			if err := page.Write(dir, j, filepath.Join(dir, journal.LedgerFile)); err != nil {
				return err
			}
			printGameday(cmd.OutOrStdout(), j, n, dir)
			return nil
		},
	}
	// A request past its deadline plus grace is hung, which fails an expectation: re-judge with the
	// grace the day ran with.
	cmd.Flags().DurationVar(&grace, "grace", grace, "the --grace the day ran with")
	return cmd
}

// rejudge judges every expectation of j again on the stored ledger (the entries of its phase) and
// returns what changed. A nothing-lost expectation keeps its verdict: resolving indeterminate
// requests needs the runtime's evidence, which only the run could read.
func rejudge(ctx context.Context, j *journal.Journal, ledgerPath string, grace time.Duration) (changed []string, requests int, err error) {
	phases := map[string]*scenario.Tally{}
	indet := map[string][]ledger.Entry{}
	for _, p := range j.Outcome.Phases {
		phases[p.Name] = scenario.NewTally(grace)
	}
	err = journal.ReadLedger(ledgerPath, func(e ledger.Entry) error {
		requests++
		name := e.Phase
		if name == "" {
			name = phaseAt(j.Outcome.Phases, e.Start)
		}
		if t := phases[name]; t != nil {
			t.Add(e)
			if e.Indeterminate {
				indet[name] = append(indet[name], e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	for i, er := range j.Outcome.Expectations {
		t := phases[er.Phase]
		if t == nil || er.Expectation.NothingLost {
			continue
		}
		c := t.Of(er.Expectation.Tenant, er.Expectation.Class)
		r := scenario.Judge(ctx, er.Expectation, c, indet[er.Phase], nil)
		if r != er.Result {
			changed = append(changed, fmt.Sprintf("%s in %s: %s → %s: %s", journal.ExpectationName(er.Expectation), er.Phase, er.Result.Verdict, r.Verdict, r.Message))
		}
		j.Outcome.Expectations[i].Result, j.Outcome.Expectations[i].Samples = r, c.Requests
	}
	j.Outcome.Status = scenario.StatusOf(j.Outcome)
	j.Status = j.Outcome.Status
	return changed, requests, nil
}

// phaseAt names the phase whose window holds at (ledgers written before entries named their phase).
func phaseAt(phases []scenario.PhaseRecord, at time.Time) string {
	for _, p := range phases {
		if !at.Before(p.Start) && at.Before(p.End) {
			return p.Name
		}
	}
	return ""
}
