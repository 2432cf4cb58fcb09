// Package compose acts on a running Docker Compose deployment of the runtime as a whole: it finds
// each part's container by the Compose labels (com.docker.compose.project and .service) and
// kills, stops, pauses and disconnects it through the Docker Engine API, cuts a part off one of
// the project's networks, and asks a NATS JetStream cluster which node leads a stream. It starts
// and removes nothing: the deployment is the operator's (deploy/compose), and the harness must
// leave it as it found it, which Residue proves.
package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"github.com/aruntime/arcert/chaos/fault"
)

// Compose's labels on the containers and networks of a project.
const (
	labelProject = "com.docker.compose.project"
	labelService = "com.docker.compose.service"
	labelNetwork = "com.docker.compose.network"
)

// StopGrace is the deployment's stop_grace_period (deploy/compose/docker-compose.yaml): a
// graceful stop gives a part this long to drain before SIGKILL, as `docker-compose stop` does.
const StopGrace = 20 * time.Second

// RestartTimeout bounds a Restart's wait for the part to serve again.
const RestartTimeout = 3 * time.Minute

// ErrDeployment means the deployment is not what the target says it is: a part has no container
// in the project, or a named network is not the project's.
var ErrDeployment = errors.New("compose: deployment")

// Options say which project to act on and what its parts are.
type Options struct {
	// Project is the Compose project name.
	Project string
	// Parts maps a role (router, state-store, worker, ...) to its Compose services.
	Parts map[string][]string
	// Routers are the routers' HTTP base URLs on the harness's host, in the order of
	// Parts["router"]: a restarted router serves again once its /healthz answers 200.
	Routers []string
	// Monitor maps each state-store part to its NATS monitoring URL (StreamLeader).
	Monitor map[string]string
	// Log receives progress lines of long waits; nil discards them.
	Log io.Writer
}

// Deployment is an opened Compose project. It is safe for concurrent use.
type Deployment struct {
	o      Options
	docker *client.Client
	http   *http.Client
	// ids maps a service to its container; networks maps the project's network names (as
	// docker-compose.yaml gives them) to Docker's; attached is what each container was on when
	// the deployment was opened, with its aliases there, keyed by Docker's network name.
	ids      map[string]string
	networks map[string]string
	attached map[string]map[string][]string

	mu          sync.Mutex
	serverNames map[string]string // state-store part -> its NATS server_name, once learned
}

var (
	_ fault.Nodes         = (*Deployment)(nil)
	_ fault.Stopper       = (*Deployment)(nil)
	_ fault.Pauser        = (*Deployment)(nil)
	_ fault.Partitioner   = (*Deployment)(nil)
	_ fault.NetworkCutter = (*Deployment)(nil)
	_ fault.Leaders       = (*Deployment)(nil)
)

// Open finds every part's container and the project's networks on the Docker engine of the
// environment (DOCKER_HOST, or the local socket) and records which networks each container is
// on, with its aliases: Connect and RestoreNetwork put it back exactly so, and Residue checks it.
func Open(ctx context.Context, o Options) (*Deployment, error) {
	if o.Project == "" {
		return nil, fmt.Errorf("%w: no Compose project named", ErrDeployment)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	docker, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("compose: docker client: %w", err)
	}
	d := &Deployment{o: o, docker: docker, http: &http.Client{Timeout: 2 * time.Second},
		ids: map[string]string{}, networks: map[string]string{}, attached: map[string]map[string][]string{}, serverNames: map[string]string{}}
	if err := d.discover(ctx); err != nil {
		_ = docker.Close()
		return nil, err
	}
	return d, nil
}

func (d *Deployment) discover(ctx context.Context) error {
	project := make(client.Filters).Add("label", labelProject+"="+d.o.Project)
	cs, err := d.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: project})
	if err != nil {
		return fmt.Errorf("compose: listing the containers of project %s: %w", d.o.Project, err)
	}
	for _, c := range cs.Items {
		if svc := c.Labels[labelService]; svc != "" {
			d.ids[svc] = c.ID
		}
	}
	var missing []string
	for _, role := range sortedKeys(d.o.Parts) {
		for _, name := range d.o.Parts[role] {
			if d.ids[name] == "" {
				missing = append(missing, role+" "+name)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: project %s has no container for %s (is it up? `docker ps --filter label=%s=%s`)", ErrDeployment, d.o.Project, strings.Join(missing, ", "), labelProject, d.o.Project)
	}
	nets, err := d.docker.NetworkList(ctx, client.NetworkListOptions{Filters: project})
	if err != nil {
		return fmt.Errorf("compose: listing the networks of project %s: %w", d.o.Project, err)
	}
	for _, n := range nets.Items {
		if short := n.Labels[labelNetwork]; short != "" {
			d.networks[short] = n.Name
		}
	}
	for _, name := range d.allParts() {
		res, err := d.docker.ContainerInspect(ctx, d.ids[name], client.ContainerInspectOptions{})
		if err != nil {
			return fmt.Errorf("compose: inspecting %s: %w", name, err)
		}
		on := map[string][]string{}
		if ns := res.Container.NetworkSettings; ns != nil {
			short := d.ids[name][:min(12, len(d.ids[name]))]
			for net, ep := range ns.Networks {
				// Docker adds the container's short id itself on every connect.
				on[net] = slices.DeleteFunc(slices.Clone(ep.Aliases), func(a string) bool { return a == short })
			}
		}
		d.attached[name] = on
	}
	return nil
}

// Close releases the Docker client; the deployment itself is left running.
func (d *Deployment) Close() error { return d.docker.Close() }

// Parts lists the services of a role, as the target lists them.
func (d *Deployment) Parts(role string) []string { return slices.Clone(d.o.Parts[role]) }

// allParts lists every part of every role, in a stable order.
func (d *Deployment) allParts() []string {
	var out []string
	for _, role := range sortedKeys(d.o.Parts) {
		out = append(out, d.o.Parts[role]...)
	}
	return out
}

// find returns the container of the part role/name, or an error naming what the target lists.
func (d *Deployment) find(role, name string) (string, error) {
	if !slices.Contains(d.o.Parts[role], name) {
		return "", fmt.Errorf("%w: no %s named %s (the %s parts are %v)", ErrDeployment, role, name, role, d.o.Parts[role])
	}
	return d.ids[name], nil
}

// network returns Docker's name for the project's network named as docker-compose.yaml does.
func (d *Deployment) network(name string) (string, error) {
	n, ok := d.networks[name]
	if !ok {
		return "", fmt.Errorf("%w: project %s has no network %q (it has %v)", ErrDeployment, d.o.Project, name, sortedKeys(d.networks))
	}
	return n, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
