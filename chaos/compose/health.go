package compose

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// HealthLabel is the container label holding a part's own health check, a command line run in
// the container (deploy/compose/docker-compose.yaml). The deployment has no Docker health
// checks, whose periodic processes cost CPU the deployment needs under load; the label's check
// runs only when someone waits for the part: `make deploy`, and Restart here.
const HealthLabel = "dev.arcert.health"

// Exec checks run at most this often while Restart waits, and each is bounded: a check starts a
// process in the container (tens of milliseconds of CPU), unlike the router's /healthz.
const (
	execCheckEvery   = time.Second
	execCheckTimeout = 10 * time.Second
)

// execCheck runs the command line check in container id and reports whether it exited 0; state
// says how it ended otherwise.
func (d *Deployment) execCheck(ctx context.Context, id, check string) (bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, execCheckTimeout)
	defer cancel()
	created, err := d.docker.ExecCreate(ctx, id, client.ExecCreateOptions{Cmd: strings.Fields(check)})
	if err != nil {
		return false, "", fmt.Errorf("creating check %q: %w", check, err)
	}
	if _, err := d.docker.ExecStart(ctx, created.ID, client.ExecStartOptions{Detach: true}); err != nil {
		return false, "", fmt.Errorf("starting check %q: %w", check, err)
	}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		res, err := d.docker.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
		if err != nil {
			return false, "", fmt.Errorf("check %q: %w", check, err)
		}
		if !res.Running {
			if res.ExitCode != 0 {
				return false, fmt.Sprintf("check %q exited %d", check, res.ExitCode), nil
			}
			return true, "", nil
		}
		select {
		case <-ctx.Done():
			return false, "", fmt.Errorf("check %q still running: %w", check, ctx.Err())
		case <-t.C:
		}
	}
}
