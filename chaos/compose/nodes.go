package compose

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/aruntime/arcert/chaos/fault"
)

// Kill sends the part's container SIGKILL: its connections drop at once and its in-flight work
// is lost to it. Docker does not apply the restart policy to a container it was told to kill,
// so the part stays down until Restart.
func (d *Deployment) Kill(ctx context.Context, role, name string) error {
	id, err := d.find(role, name)
	if err != nil {
		return err
	}
	if _, err := d.docker.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return fmt.Errorf("compose: killing %s: %w", name, err)
	}
	return nil
}

// Stop stops the part gracefully: SIGTERM, then SIGKILL after StopGrace, as a drained node.
func (d *Deployment) Stop(ctx context.Context, role, name string) error {
	id, err := d.find(role, name)
	if err != nil {
		return err
	}
	grace := int(StopGrace / time.Second)
	if _, err := d.docker.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &grace}); err != nil {
		return fmt.Errorf("compose: stopping %s: %w", name, err)
	}
	return nil
}

// Restart starts a killed or stopped part and returns once it serves again: for a router with a
// known endpoint, when that endpoint's /healthz answers 200 (what a load balancer waits for);
// for a part with a Docker health check, when Docker reports it healthy; for a part labelled
// with its own check (HealthLabel), when that check passes, run in its container about once a
// second; for any other part, when it runs. A part that still runs is only waited for; a paused
// one is refused, since Unpause is what undoes a pause.
func (d *Deployment) Restart(ctx context.Context, role, name string) error {
	id, err := d.find(role, name)
	if err != nil {
		return err
	}
	st, err := d.state(ctx, id)
	if err != nil {
		return fmt.Errorf("compose: %s: %w", name, err)
	}
	if st.Paused {
		return fmt.Errorf("compose: %s is paused: unpause it rather than restart it", name)
	}
	if !st.Running {
		if _, err := d.docker.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
			return fmt.Errorf("compose: starting %s: %w", name, err)
		}
	}
	var checked time.Time // when the label's check last ran (the first poll runs it at once)
	var said string       // what that check found, repeated until it runs again
	return d.poll(ctx, name+" serving again", func(ctx context.Context) (bool, string, error) {
		res, err := d.docker.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil {
			return false, "", err
		}
		st := res.Container.State
		switch {
		case st == nil:
			return false, "", errors.New("docker reports no state")
		case !st.Running:
			return false, string(st.Status), nil
		case role == "router" && d.routerEndpoint(name) != "":
			return d.routerHealthy(ctx, name)
		case st.Health != nil:
			return st.Health.Status == container.Healthy, "health " + string(st.Health.Status), nil
		}
		check := ""
		if res.Container.Config != nil {
			check = res.Container.Config.Labels[HealthLabel]
		}
		if check == "" {
			return true, "", nil
		}
		if time.Since(checked) < execCheckEvery {
			return false, said, nil
		}
		checked = time.Now()
		ok, state, err := d.execCheck(ctx, id, check)
		if err != nil {
			state = err.Error()
		}
		said = state
		return ok, state, err
	})
}

// routerEndpoint is the published HTTP endpoint of the router part name, "" when none is known.
func (d *Deployment) routerEndpoint(name string) string {
	i := slices.Index(d.o.Parts["router"], name)
	if i < 0 || i >= len(d.o.Routers) {
		return ""
	}
	return strings.TrimSuffix(d.o.Routers[i], "/")
}

// routerHealthy asks the router's published endpoint for /healthz, as a load balancer would.
func (d *Deployment) routerHealthy(ctx context.Context, name string) (bool, string, error) {
	url := d.routerEndpoint(name) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, "", err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return false, "", err
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK, fmt.Sprintf("%s answers %d", url, resp.StatusCode), nil
}

// Pause freezes the part's processes; its connections stay open and hang until Unpause.
func (d *Deployment) Pause(ctx context.Context, role, name string) error {
	id, err := d.find(role, name)
	if err != nil {
		return err
	}
	if _, err := d.docker.ContainerPause(ctx, id, client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("compose: pausing %s: %w", name, err)
	}
	return nil
}

// Unpause resumes a paused part.
func (d *Deployment) Unpause(ctx context.Context, role, name string) error {
	id, err := d.find(role, name)
	if err != nil {
		return err
	}
	if _, err := d.docker.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("compose: unpausing %s: %w", name, err)
	}
	return nil
}

// Disconnect takes the part off every network it is on while it keeps running: everything it
// dials or is dialled by fails, as in a partition.
func (d *Deployment) Disconnect(ctx context.Context, role, name string) error {
	if _, err := d.find(role, name); err != nil {
		return err
	}
	var errs []error
	for _, net := range sortedKeys(d.attached[name]) {
		errs = append(errs, d.disconnect(ctx, name, net))
	}
	return errors.Join(errs...)
}

// Connect puts the part back on every network it was on when the deployment was opened, with
// the aliases it had there; networks it is still on are left alone.
func (d *Deployment) Connect(ctx context.Context, role, name string) error {
	if _, err := d.find(role, name); err != nil {
		return err
	}
	var errs []error
	for _, net := range sortedKeys(d.attached[name]) {
		errs = append(errs, d.connect(ctx, name, net))
	}
	return errors.Join(errs...)
}

func (d *Deployment) disconnect(ctx context.Context, name, net string) error {
	if _, err := d.docker.NetworkDisconnect(ctx, net, client.NetworkDisconnectOptions{Container: d.ids[name], Force: true}); err != nil {
		return fmt.Errorf("compose: disconnecting %s from %s: %w", name, net, err)
	}
	return nil
}

func (d *Deployment) connect(ctx context.Context, name, net string) error {
	on, err := d.networksOf(ctx, d.ids[name])
	if err != nil {
		return fmt.Errorf("compose: %s: %w", name, err)
	}
	if slices.Contains(on, net) {
		return nil
	}
	opts := client.NetworkConnectOptions{Container: d.ids[name], EndpointConfig: &network.EndpointSettings{Aliases: d.attached[name][net]}}
	if _, err := d.docker.NetworkConnect(ctx, net, opts); err != nil {
		return fmt.Errorf("compose: connecting %s to %s: %w", name, net, err)
	}
	return nil
}

// Residue reports every part that is not running, is paused, or is off a network it was on
// when the deployment was opened; nil when the deployment is as the harness found it. Toxics
// left on links are the fault engine's residue.
func (d *Deployment) Residue(ctx context.Context) error {
	var left []string
	for _, name := range d.allParts() {
		res, err := d.docker.ContainerInspect(ctx, d.ids[name], client.ContainerInspectOptions{})
		if err != nil {
			return fmt.Errorf("compose: inspecting %s: %w", name, err)
		}
		c := res.Container
		switch {
		case c.State == nil:
			left = append(left, name+" has no state")
		case c.State.Paused:
			left = append(left, name+" is paused")
		case !c.State.Running:
			left = append(left, fmt.Sprintf("%s is %s (exit code %d)", name, c.State.Status, c.State.ExitCode))
		}
		for _, net := range sortedKeys(d.attached[name]) {
			if c.NetworkSettings == nil || c.NetworkSettings.Networks[net] == nil {
				left = append(left, name+" is off network "+net)
			}
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("%w: %s", fault.ErrResidue, strings.Join(left, "; "))
	}
	return nil
}

func (d *Deployment) state(ctx context.Context, id string) (*container.State, error) {
	res, err := d.docker.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, err
	}
	if res.Container.State == nil {
		return nil, errors.New("docker reports no state")
	}
	return res.Container.State, nil
}

func (d *Deployment) networksOf(ctx context.Context, id string) ([]string, error) {
	res, err := d.docker.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, err
	}
	if res.Container.NetworkSettings == nil {
		return nil, nil
	}
	return sortedKeys(res.Container.NetworkSettings.Networks), nil
}

// Waits poll at this interval and report progress on Log at most this often.
const (
	pollInterval  = 250 * time.Millisecond
	progressEvery = 5 * time.Second
)

// poll calls check until it says done, ctx ends or RestartTimeout passes, writing what it still
// waits for to Log now and then; the error names what was waited for and the last state seen.
func (d *Deployment) poll(ctx context.Context, what string, check func(context.Context) (bool, string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, RestartTimeout)
	defer cancel()
	start, said := time.Now(), time.Now()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var last string
	for {
		done, state, err := check(ctx)
		if done {
			return nil
		}
		if err != nil {
			state = err.Error()
		}
		last = state
		if time.Since(said) >= progressEvery {
			said = time.Now()
			fmt.Fprintf(d.o.Log, "compose: waiting %s for %s (%s)\n", time.Since(start).Round(time.Second), what, last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("compose: waiting for %s: %w (last: %s)", what, ctx.Err(), last)
		case <-t.C:
		}
	}
}
