package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/target"
	"github.com/aruntime/arcert/reference/runtime"
)

// chaosSetup is what a run can break: the proxies on the runtime's dependency links and, where
// the harness controls the runtime's parts (embedded or containers), the parts themselves.
type chaosSetup struct {
	// Engine drives the toxiproxy server whose proxies stand on every declared link.
	Engine *fault.Engine
	// Nodes kills and restarts parts; nil when the harness cannot (a remote target).
	Nodes fault.Nodes
}

// chaosStopTimeout bounds stopping the in-process toxiproxy server.
const chaosStopTimeout = 5 * time.Second

// startFaultServer starts toxiproxy's server in this process and an engine driving it.
func startFaultServer() (*fault.Engine, func(), error) {
	srv, err := fault.StartServer("127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), chaosStopTimeout)
		defer cancel()
		_ = srv.Close(ctx)
	}
	return fault.New(srv.URL()), stop, nil
}

// interposer stands a proxy of e on every link the embedded runtime dials, on a free loopback port.
func interposer(e *fault.Engine) runtime.Interposer {
	return func(_ context.Context, l runtime.Link) (string, error) {
		l.Dial = "127.0.0.1:0"
		proxied, err := e.Proxy(l)
		if err != nil {
			return "", err
		}
		return proxied.Dial, nil
	}
}

// embeddedDependencies rewrites the target's dependencies from the proxies the embedded runtime
// really dials, so the report and the specs see the links as they are.
func embeddedDependencies(e *fault.Engine, topo runtime.Topology) []target.Dependency {
	var deps []target.Dependency
	for _, l := range e.Links() {
		d := target.Dependency{Link: l.Link}
		if url, ok := topo.Providers[l.Name]; ok && l.Role == link.RoleProvider {
			d.Observe = strings.TrimSuffix(url, "/") + "/v1/provider/seen"
		}
		if l.Role == link.RoleTool {
			d.Observe = topo.ToolServerSeen
		}
		deps = append(deps, d)
	}
	return deps
}

// errDial means a declared dependency's dial address is not one the harness can listen on.
var errDial = errors.New("arcert: dependency dial address")

// targetChaos stands a proxy on every dependency a remote target declares: the proxy listens on
// the declared dial address (where the runtime has been told to connect) and forwards upstream.
func targetChaos(t *target.Target, stderr io.Writer) (*chaosSetup, func(), error) {
	if len(t.Dependencies) == 0 {
		return nil, nil, fmt.Errorf("%w: the target declares no dependencies, so no fault can be injected (see the dependencies section of the target example)", errDial)
	}
	if t.Deployment != nil {
		return deploymentChaos(context.Background(), t, stderr)
	}
	e, stop, err := startFaultServer()
	if err != nil {
		return nil, nil, err
	}
	for i, d := range t.Dependencies {
		if _, _, err := net.SplitHostPort(d.Dial); err != nil {
			stop()
			return nil, nil, fmt.Errorf("%w: dependencies[%d] (%s %s) dial %q is not host:port", errDial, i, d.Role, d.Name, d.Dial)
		}
		l := d.Link
		if l.Part == "" {
			l.Part = fmt.Sprint(i) // proxy names must differ; no worker is named, so none is judged
		}
		if _, err := e.Proxy(l); err != nil {
			stop()
			return nil, nil, err
		}
		fmt.Fprintf(stderr, "arcert: proxy on %s %s: %s → %s\n", d.Role, d.Name, d.Dial, d.Upstream)
	}
	return &chaosSetup{Engine: e}, stop, nil
}

// embeddedNodes kills and restarts the embedded runtime's workers in this process: a kill closes
// the worker's listener and every live stream at once, as a crashed host would; a restart is the
// runtime's own worker replacement, on the same address.
type embeddedNodes struct{ rt *runtime.Runtime }

var _ fault.Nodes = embeddedNodes{}

func (n embeddedNodes) Parts(role string) []string {
	if role != "worker" {
		return nil
	}
	var ids []string
	for id := range n.rt.Topology().Workers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (n embeddedNodes) Kill(ctx context.Context, role, name string) error {
	if role != "worker" {
		return fmt.Errorf("arcert: the embedded runtime can kill workers only, not %s", role)
	}
	return n.rt.KillWorker(ctx, name)
}

func (n embeddedNodes) Restart(ctx context.Context, role, name string) error {
	if role != "worker" {
		return fmt.Errorf("arcert: the embedded runtime can restart workers only, not %s", role)
	}
	return n.rt.ReplaceWorker(ctx, name)
}

func (n embeddedNodes) Residue(context.Context) error {
	var killed []string
	for _, id := range n.Parts("worker") {
		if n.rt.WorkerKilled(id) {
			killed = append(killed, id)
		}
	}
	if len(killed) > 0 {
		return fmt.Errorf("%w: workers still killed: %s", fault.ErrResidue, strings.Join(killed, ", "))
	}
	return nil
}
