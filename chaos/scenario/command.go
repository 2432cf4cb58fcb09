package scenario

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// commandTimeout is how long a command fault's script may run when the plan gives no Timeout: long
// enough for a kubectl call against a slow API server, short enough that a hung script does not
// hold the rollback.
const commandTimeout = 30 * time.Second

// outputTail is how much of a failed script's output goes into the record: its last lines say why.
const outputTail = 2000

// runCommand runs script with `sh -c` within timeout (commandTimeout when 0) and returns an error
// carrying the script's output when it fails.
func runCommand(ctx context.Context, script string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = commandTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The plan's author wrote this script to be run; running it is the point of a command fault.
	out, err := exec.CommandContext(ctx, "sh", "-c", script).CombinedOutput() //nolint:gosec // see above
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
