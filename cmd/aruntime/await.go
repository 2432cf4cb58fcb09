package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// A role started with --await waits, before it starts, until every part it names serves (the
// same check as `aruntime health`). It is how deploy/compose orders start-up without Docker
// health checks: those run a process in each container every interval, whose CPU showed as
// latency under load, so the deployment has none and each role waits for its dependencies
// itself instead.
const (
	// awaitPoll is how often an awaited part is asked again.
	awaitPoll = 500 * time.Millisecond
	// awaitProgress is how often a long wait says what it still waits for.
	awaitProgress = 5 * time.Second
	// defaultAwaitTimeout bounds the wait: a dependency absent this long is a deployment fault
	// to report (the role exits with an error naming it), not one to wait out forever.
	defaultAwaitTimeout = 3 * time.Minute
)

// awaitParts returns once every target passes checkHealth, or an error naming those that did
// not within timeout. Progress goes to w.
func awaitParts(ctx context.Context, w io.Writer, targets []string, timeout time.Duration) error {
	if len(targets) == 0 {
		return nil
	}
	for _, t := range targets { // a mistyped URL fails now, not after the timeout
		if _, err := parseTarget(t); err != nil {
			return fmt.Errorf("--await %q: %w", t, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start, said := time.Now(), time.Now()
	pending := append([]string(nil), targets...)
	last := map[string]error{}
	tick := time.NewTicker(awaitPoll)
	defer tick.Stop()
	for {
		var still []string
		for _, t := range pending {
			cctx, ccancel := context.WithTimeout(ctx, healthTimeout)
			err := checkHealth(cctx, t)
			ccancel()
			if err != nil {
				still = append(still, t)
				if ctx.Err() == nil || last[t] == nil { // the deadline's own error says less
					last[t] = err
				}
			}
		}
		if pending = still; len(pending) == 0 {
			if time.Since(start) >= awaitPoll {
				_, _ = fmt.Fprintf(w, "await: %s serve after %s\n", strings.Join(targets, ", "), time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if time.Since(said) >= awaitProgress {
			said = time.Now()
			_, _ = fmt.Fprintf(w, "await: waited %s for %s\n", time.Since(start).Round(time.Second), describePending(pending, last))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("--await: after %s, not serving: %s", time.Since(start).Round(time.Second), describePending(pending, last))
		case <-tick.C:
		}
	}
}

// describePending names each part still awaited with its last error.
func describePending(pending []string, last map[string]error) string {
	parts := make([]string, len(pending))
	for i, t := range pending {
		parts[i] = fmt.Sprintf("%s (%v)", t, last[t])
	}
	return strings.Join(parts, "; ")
}
