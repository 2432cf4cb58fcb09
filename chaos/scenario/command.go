package scenario

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// commandTimeout is how long a command fault's script may run when the plan gives no Timeout: long
// enough for a kubectl call against a slow API server, short enough that a hung script does not
// hold the rollback.
const commandTimeout = 30 * time.Second

// commandWaitDelay is how long a timed-out script's output is waited for after it was killed.
const commandWaitDelay = time.Second

// outputTail is how much of a failed script's output goes into the record: its last lines say why.
const outputTail = 2000

// runCommand runs script with `sh -c` within timeout (commandTimeout when 0), with the process's
// environment plus extra, and returns an error carrying the script's output when it fails.
func runCommand(ctx context.Context, script string, timeout time.Duration, extra []string) error {
	if timeout <= 0 {
		timeout = commandTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The plan's author wrote this script to be run; running it is the point of a command fault.
	cmd := exec.CommandContext(ctx, "sh", "-c", script) //nolint:gosec // see above
	// The script's children (a kubectl it started) go with it when it times out: kill the whole
	// process group, and stop waiting for output a straggler still holds open.
	cmd.Env = append(os.Environ(), extra...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = commandWaitDelay
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	text := strings.TrimSpace(string(out))
	if len(text) > outputTail {
		text = "…" + text[len(text)-outputTail:]
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w after %s", ctx.Err(), timeout)
	}
	if text == "" {
		return fmt.Errorf("command %q: %w", script, err)
	}
	return fmt.Errorf("command %q: %w: %s", script, err, text)
}
