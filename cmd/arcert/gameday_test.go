package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/gameday/journal"
)

// syncBuffer is a bytes.Buffer the command writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runGameday runs `arcert gameday run` in this process and returns its error and its output.
func runGameday(ctx context.Context, stderr *syncBuffer, args ...string) (string, error) {
	var stdout syncBuffer
	cmd := rootCommand()
	cmd.SetArgs(append([]string{"gameday", "run"}, args...))
	cmd.SetOut(&stdout)
	cmd.SetErr(stderr)
	err := cmd.ExecuteContext(ctx)
	return stdout.String(), err
}

// exitCode is the exit code main would give err.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}

// shipped is the path of a shipped scenario from this package's directory.
func shipped(name string) string {
	return filepath.Join("..", "..", "fixtures", "gamedays", name+".yaml")
}

// TestGamedayRegionEvacuationCompletes is the game day of issue #14's "done when": the shipped
// region evacuation against the embedded reference completes, with a journal, a streamed ledger
// holding every request, JUnit with a case per check, a summary and the HTML page.
func TestGamedayRegionEvacuationCompletes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var stderr syncBuffer
	stdout, err := runGameday(ctx, &stderr, shipped("region-evacuation"), "--embedded", "--out", dir)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, stdout, stderr.String())
	}
	j, err := journal.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != scenario.StatusCompleted || j.Outcome.Abort != nil || !j.Outcome.Residue.OK() {
		t.Fatalf("status %s, abort %+v, residue %+v\n%s", j.Status, j.Outcome.Abort, j.Outcome.Residue, stdout)
	}
	entries, tenants := 0, map[string]bool{}
	if err := journal.ReadLedger(filepath.Join(dir, journal.LedgerFile), func(e ledger.Entry) error {
		entries++
		tenants[e.Tenant] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, g := range j.Outcome.Totals {
		total += g.Requests
	}
	if entries == 0 || entries != total || len(tenants) != 3 {
		t.Errorf("ledger holds %d entries of %d tenants; the journal counts %d requests", entries, len(tenants), total)
	}
	junit, err := os.ReadFile(filepath.Join(dir, journal.JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(junit), "<testcase"); n < len(j.Outcome.Expectations) {
		t.Errorf("junit.xml has %d cases for %d expectations", n, len(j.Outcome.Expectations))
	}
	for _, name := range []string{journal.SummaryFile, "report.html"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if !strings.Contains(stderr.String(), "fault eu-west down in force") || !strings.Contains(stderr.String(), "fault eu-west down healed") {
		t.Errorf("the progress lines do not show the fault:\n%s", stderr.String())
	}
	// The stored day judges the same again.
	var out syncBuffer
	cmd := rootCommand()
	cmd.SetArgs([]string{"gameday", "report", dir})
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	if err := cmd.ExecuteContext(ctx); err != nil || strings.Contains(out.String(), "re-judged:") {
		t.Errorf("gameday report: %v\n%s", err, out.String())
	}
}

// TestGamedayOverBudgetAbortsAndRollsBack: a full outage against a 10% error budget aborts the
// day on the budget rule; rollback heals every fault and the fault server shows no residue.
func TestGamedayOverBudgetAbortsAndRollsBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var stderr syncBuffer
	stdout, err := runGameday(ctx, &stderr, shipped("budget-exceeded"), "--embedded", "--out", dir)
	if exitCode(err) != exitAborted {
		t.Fatalf("exit %d (%v), want %d (aborted)\n%s\n%s", exitCode(err), err, exitAborted, stdout, stderr.String())
	}
	j := readJournal(t, dir)
	if j.Status != scenario.StatusAborted || j.Outcome.Abort == nil || j.Outcome.Abort.Rule != scenario.RuleErrorBudget {
		t.Fatalf("status %s, abort %+v", j.Status, j.Outcome.Abort)
	}
	expectRolledBack(t, j, 2)
}

// TestGamedaySIGINTMidFaultRollsBack: Ctrl-C while the region is cut aborts the day on the signal
// rule, and the fault is healed with no residue left.
func TestGamedaySIGINTMidFaultRollsBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var stderr syncBuffer
	// The command catches SIGINT from the moment it starts the runtime; the fault's progress line
	// comes long after.
	done := startGamedayUntil(ctx, t, &stderr, dir, "fault eu-west down in force")
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := <-done
	if exitCode(err) != exitAborted {
		t.Fatalf("exit %d (%v), want %d (aborted)\n%s", exitCode(err), err, exitAborted, stderr.String())
	}
	j := readJournal(t, dir)
	if j.Outcome.Abort == nil || j.Outcome.Abort.Rule != scenario.RuleSignal {
		t.Fatalf("abort %+v, want rule %s", j.Outcome.Abort, scenario.RuleSignal)
	}
	expectRolledBack(t, j, 1)
}

// startGamedayUntil starts the region evacuation in the background and returns, with the channel
// its error will come on, once its progress lines say line.
func startGamedayUntil(ctx context.Context, t *testing.T, stderr *syncBuffer, dir, line string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := runGameday(ctx, stderr, shipped("region-evacuation"), "--embedded", "--out", dir)
		done <- err
	}()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(stderr.String(), line) {
		if time.Now().After(deadline) {
			t.Fatalf("the day never got to %q:\n%s", line, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return done
}

func readJournal(t *testing.T, dir string) journal.Journal {
	t.Helper()
	j, err := journal.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// expectRolledBack checks that rollback healed faults faults without error and that the residue
// check, which asks the fault server itself, passed.
func expectRolledBack(t *testing.T, j journal.Journal, faults int) {
	t.Helper()
	if len(j.Outcome.Rollback) < faults {
		t.Errorf("rollback ran %d undos, want at least %d: %+v", len(j.Outcome.Rollback), faults, j.Outcome.Rollback)
	}
	for _, r := range j.Outcome.Rollback {
		if r.Error != "" {
			t.Errorf("rollback of %s failed: %s", r.What, r.Error)
		}
	}
	if !j.Outcome.Residue.OK() {
		t.Errorf("residue: %+v", j.Outcome.Residue)
	}
	for _, f := range j.Outcome.Faults {
		if f.End.IsZero() {
			t.Errorf("fault %s was never healed", f.Name)
		}
	}
}

// TestGamedayOperatorAbort: `arcert gameday abort DIR` from another terminal stops the day on
// the operator rule; rollback and the residue check still run.
func TestGamedayOperatorAbort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var stderr syncBuffer
	done := startGamedayUntil(ctx, t, &stderr, dir, "phase steady")
	var out syncBuffer
	cmd := rootCommand()
	cmd.SetArgs([]string{"gameday", "abort", dir, "--reason", "pager went off"})
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("gameday abort: %v\n%s", err, out.String())
	}
	if err := <-done; exitCode(err) != exitAborted {
		t.Fatalf("exit %d (%v), want %d\n%s", exitCode(err), err, exitAborted, stderr.String())
	}
	j := readJournal(t, dir)
	if j.Outcome.Abort == nil || j.Outcome.Abort.Rule != scenario.RuleOperator || !strings.Contains(j.Outcome.Abort.Reason, "pager went off") {
		t.Fatalf("abort %+v, want the operator's, with its reason", j.Outcome.Abort)
	}
	expectRolledBack(t, j, 0)
	// The day has ended: a second abort is refused, naming why.
	cmd = rootCommand()
	cmd.SetArgs([]string{"gameday", "abort", dir})
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	if err := cmd.ExecuteContext(ctx); err == nil || !strings.Contains(err.Error(), "already ended") {
		t.Errorf("abort of an ended day: %v", err)
	}
}

// TestGamedayValidate: a shipped scenario is valid; a broken one gets every mistake on its own
// FILE:LINE line and the invalid exit, and nothing is started.
func TestGamedayValidate(t *testing.T) {
	run := func(args ...string) (string, error) {
		var out syncBuffer
		cmd := rootCommand()
		cmd.SetArgs(append([]string{"gameday"}, args...))
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), err
	}
	if out, err := run("validate", shipped("region-evacuation")); err != nil || !strings.Contains(out, "valid") {
		t.Fatalf("%v\n%s", err, out)
	}
	raw, err := os.ReadFile(shipped("region-evacuation"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(strings.Replace(string(raw), "duration: 13s", "duration: 13 seconds", 1), "kind: down", "kind: unplug", 1)
	path := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run("validate", path)
	if exitCode(err) != exitInvalid {
		t.Fatalf("exit %d (%v), want %d\n%s", exitCode(err), err, exitInvalid, out)
	}
	for _, want := range []string{path + ":", "spec.phases[2].duration", "spec.faults[0].kind"} {
		if !strings.Contains(out, want) {
			t.Errorf("the mistakes do not name %q:\n%s", want, out)
		}
	}
	if out, err := run("run", path, "--out", t.TempDir()); exitCode(err) != exitInvalid || strings.Contains(out, "starting the embedded") {
		t.Errorf("run of a broken scenario: exit %d (%v)\n%s", exitCode(err), err, out)
	}
}
