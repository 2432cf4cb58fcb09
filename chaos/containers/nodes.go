package containers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/aruntime/arcert/chaos/fault"
)

// The deployment kills and brings back its own parts with real container faults.
var (
	_ fault.Nodes       = (*Deployment)(nil)
	_ fault.Stopper     = (*Deployment)(nil)
	_ fault.Pauser      = (*Deployment)(nil)
	_ fault.Partitioner = (*Deployment)(nil)
)

var unpauseOptions = client.ContainerUnpauseOptions{}

// Parts lists the parts of a role (RoleWorker, RoleRouter, RoleDurable, RoleCache, RoleProvider).
func (d *Deployment) Parts(role string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, p := range d.parts {
		if p.role == role {
			out = append(out, p.name)
		}
	}
	return out
}

// Kill sends the part's container SIGKILL (docker kill): its connections drop at once and its
// in-flight work is lost to it; its filesystem (the durable store, the router's spool) stays.
func (d *Deployment) Kill(ctx context.Context, role, name string) error {
	p, err := d.find(role, name)
	if err != nil {
		return err
	}
	if _, err := d.docker.ContainerKill(ctx, p.c.GetContainerID(), client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return fmt.Errorf("containers: killing %s: %w", name, err)
	}
	return nil
}

// Stop stops the part gracefully (SIGTERM, SIGKILL after a grace period), as an orchestrator
// draining a node does: the router drains, a worker finishes what it runs.
func (d *Deployment) Stop(ctx context.Context, role, name string) error {
	p, err := d.find(role, name)
	if err != nil {
		return err
	}
	grace := stopTimeout
	if err := p.c.Stop(ctx, &grace); err != nil {
		return fmt.Errorf("containers: stopping %s: %w", name, err)
	}
	return nil
}

// Restart starts a killed or stopped part again and returns once it serves: it has printed its
// ready line anew and, for a worker, the router reports it healthy; for the router, it reports
// every running worker healthy. A part that still runs is only waited for. The whole restart is
// bounded by StartTimeout (one part's start), so a caller's own budget learns why it failed
// rather than running out first; a failure quotes the last lines the part and the router logged.
func (d *Deployment) Restart(ctx context.Context, role, name string) error {
	p, err := d.find(role, name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	if err := d.restart(ctx, p); err != nil {
		// Its own bound: the Docker engine may be what stalled the restart.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tailTimeout)
		defer cancel()
		return fmt.Errorf("%w%s", err, d.tailsOf(lctx, p.name, "router"))
	}
	return nil
}

// tailTimeout bounds reading the log lines a failed restart quotes.
const tailTimeout = 10 * time.Second

// restart is Restart of the part p within ctx.
func (d *Deployment) restart(ctx context.Context, p *part) error {
	name := p.name
	if p.role == toxiproxyAlias {
		// Its proxies live in its memory: a restarted toxiproxy has none, and every link is cut.
		return fmt.Errorf("containers: toxiproxy cannot be restarted without losing every proxy; cut links with the engine instead")
	}
	st, err := p.c.State(ctx)
	if err != nil {
		return fmt.Errorf("containers: %s: %w", name, err)
	}
	if st.Paused {
		return fmt.Errorf("containers: %s is paused: unpause it rather than restart it", name)
	}
	if !st.Running {
		before, err := p.countLines(ctx, p.ready)
		if err != nil {
			return fmt.Errorf("containers: %s: logs: %w", name, err)
		}
		// Start runs the part's wait strategy again, which its earlier ready line satisfies at
		// once; the fresh line is waited for below.
		if err := p.c.Start(ctx); err != nil {
			return fmt.Errorf("containers: restarting %s: %w", name, err)
		}
		if err := d.poll(ctx, name+" ready again", func(ctx context.Context) (bool, error) {
			n, err := p.countLines(ctx, p.ready)
			return n > before, err
		}); err != nil {
			return err
		}
	}
	switch p.role {
	case RoleWorker:
		return d.poll(ctx, "router reports "+name+" healthy", func(ctx context.Context) (bool, error) {
			healthy, err := d.healthyWorkers(ctx)
			if err == nil && !healthy[name] {
				// Kept as the last answer, so a timeout says what the router reported.
				err = fmt.Errorf("the router reports the workers %v", healthy)
			}
			return healthy[name], err
		})
	case RoleRouter:
		return d.waitRouter(ctx, len(d.runningParts(ctx, RoleWorker)))
	}
	return nil
}

// Pause freezes every process of the part (docker pause): its connections stay open and hang,
// as a part stalled by the kernel or a long GC does, until Unpause.
func (d *Deployment) Pause(ctx context.Context, role, name string) error {
	p, err := d.find(role, name)
	if err != nil {
		return err
	}
	if _, err := d.docker.ContainerPause(ctx, p.c.GetContainerID(), client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("containers: pausing %s: %w", name, err)
	}
	return nil
}

// Unpause resumes a paused part.
func (d *Deployment) Unpause(ctx context.Context, role, name string) error {
	p, err := d.find(role, name)
	if err != nil {
		return err
	}
	if _, err := d.docker.ContainerUnpause(ctx, p.c.GetContainerID(), unpauseOptions); err != nil {
		return fmt.Errorf("containers: unpausing %s: %w", name, err)
	}
	return nil
}

// Disconnect takes the part off the deployment's network: everything it dials or is dialled by
// fails, while the part itself keeps running, as in a network partition.
func (d *Deployment) Disconnect(ctx context.Context, role, name string) error {
	p, err := d.find(role, name)
	if err != nil {
		return err
	}
	if _, err := d.docker.NetworkDisconnect(ctx, d.net.ID, client.NetworkDisconnectOptions{Container: p.c.GetContainerID(), Force: true}); err != nil {
		return fmt.Errorf("containers: disconnecting %s: %w", name, err)
	}
	return nil
}

// Connect puts a disconnected part back on the network under its alias.
func (d *Deployment) Connect(ctx context.Context, role, name string) error {
	p, err := d.find(role, name)
	if err != nil {
		return err
	}
	opts := client.NetworkConnectOptions{Container: p.c.GetContainerID(), EndpointConfig: &network.EndpointSettings{Aliases: []string{name}}}
	if _, err := d.docker.NetworkConnect(ctx, d.net.ID, opts); err != nil {
		return fmt.Errorf("containers: connecting %s: %w", name, err)
	}
	return nil
}

// Residue reports every part left paused, stopped, exited or off the network; nil when every
// part runs on the network. The toxics left on links are the engine's Residue.
func (d *Deployment) Residue(ctx context.Context) error {
	d.mu.Lock()
	parts := append([]*part(nil), d.parts...)
	d.mu.Unlock()
	var left []string
	for _, p := range parts {
		res, err := d.docker.ContainerInspect(ctx, p.c.GetContainerID(), client.ContainerInspectOptions{})
		if err != nil {
			return fmt.Errorf("containers: inspecting %s: %w", p.name, err)
		}
		c := res.Container
		switch {
		case c.State == nil:
			left = append(left, p.name+" has no state")
		case c.State.Paused:
			left = append(left, p.name+" is paused")
		case !c.State.Running:
			left = append(left, fmt.Sprintf("%s is %s (exit code %d)", p.name, c.State.Status, c.State.ExitCode))
		}
		if c.NetworkSettings == nil || c.NetworkSettings.Networks[d.net.Name] == nil {
			left = append(left, p.name+" is off the network")
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("%w: %s", ErrResidue, strings.Join(left, "; "))
	}
	return nil
}

// runningParts lists the parts of role whose containers run (paused ones included).
func (d *Deployment) runningParts(ctx context.Context, role string) []string {
	var out []string
	for _, name := range d.Parts(role) {
		p, err := d.find(role, name)
		if err != nil {
			continue
		}
		if st, err := p.c.State(ctx); err == nil && st.Running {
			out = append(out, name)
		}
	}
	return out
}

// pollInterval is how often a wait looks again.
const pollInterval = 200 * time.Millisecond

// poll calls check until it says done, ctx ends or StartTimeout passes; the error names what was
// waited for and the last error check returned.
func (d *Deployment) poll(ctx context.Context, what string, check func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var last error
	for {
		done, err := check(ctx)
		if done {
			return nil
		}
		// The check cut short by the deadline says only that; what it found before says why.
		if err != nil && (last == nil || ctx.Err() == nil) {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("containers: waiting until %s: %w", what, errors.Join(ctx.Err(), last))
		case <-t.C:
		}
	}
}
