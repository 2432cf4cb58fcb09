package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/aruntime/arcert/conformance/target"
	"github.com/aruntime/arcert/fixtures/targets"
	"github.com/aruntime/arcert/reference/runtime"
	"github.com/aruntime/arcert/reference/tooladapter"
)

// runtimeChoice is which runtime a command works against: a target file's, the embedded
// reference (optionally one of its negative controls), or the containerized reference.
type runtimeChoice struct {
	target     string
	embedded   bool
	containers bool
	variant    string
	// runtimeLog, with embedded, is the file the embedded runtime logs to (text, info level);
	// empty discards its log.
	runtimeLog string
}

// check refuses contradictory choices with a sentence saying which flag to drop.
func (c runtimeChoice) check() error {
	switch {
	case c.containers && c.embedded:
		return errors.New("--containers and --embedded each start a reference runtime; choose one")
	case c.containers && c.target != "":
		return errors.New("--containers works with the containerized reference runtime's own target; drop --target")
	case c.embedded && c.target != "":
		return errors.New("--embedded works with the reference runtime's own target; drop --target")
	case c.variant != "" && !c.embedded:
		return errors.New("--variant needs --embedded")
	case c.runtimeLog != "" && !c.embedded:
		return errors.New("--runtime-log needs --embedded: a runtime arcert does not start keeps its own log")
	case !c.embedded && !c.containers && c.target == "":
		return errors.New("name a target file with --target FILE, or use --embedded or --containers")
	}
	return nil
}

// startRuntime readies the runtime of c: it starts the embedded or containerized reference, or
// loads the target file; with wantChaos it stands fault proxies on every dependency link (and,
// for the references, can kill their parts). stop undoes it all.
func startRuntime(ctx context.Context, stderr io.Writer, c runtimeChoice, wantChaos bool) (t *target.Target, chaos *chaosSetup, stop func(), err error) {
	if err := c.check(); err != nil {
		return nil, nil, nil, err
	}
	if c.containers {
		return startContainers(ctx, stderr)
	}
	var stops []func()
	// undo is kept apart from the named result: an error return sets stop to nil, and the
	// deferred cleanup must still run what was started.
	undo := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	stop = undo
	defer func() {
		if err != nil {
			undo()
		}
	}()
	if !c.embedded {
		if t, err = target.Load(c.target); err != nil {
			return nil, nil, nil, err
		}
		if wantChaos {
			setup, stopFaults, err := targetChaos(t, stderr)
			if err != nil {
				return nil, nil, nil, err
			}
			stops = append(stops, stopFaults)
			chaos = setup
		}
		return t, chaos, stop, nil
	}
	if t, err = target.Parse(targets.ReferenceName, targets.ReferenceYAML); err != nil {
		return nil, nil, nil, err
	}
	var interpose runtime.Interposer
	if wantChaos {
		engine, stopFaults, err := startFaultServer()
		if err != nil {
			return nil, nil, nil, err
		}
		stops = append(stops, stopFaults)
		chaos, interpose = &chaosSetup{Engine: engine}, interposer(engine)
	}
	fmt.Fprintf(stderr, "arcert: starting the embedded reference runtime%s\n", variantNote(c.variant))
	logger, closeLog, err := runtimeLogger(c.runtimeLog)
	if err != nil {
		return nil, nil, nil, err
	}
	stops = append(stops, closeLog)
	rt, stopRuntime, err := startEmbedded(ctx, c.variant, interpose, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	stops = append(stops, stopRuntime)
	topo := rt.Topology()
	// The embedded runtime has one router, on the ports it really got: no further ones.
	t.Endpoints.HTTP, t.Endpoints.GRPC, t.Endpoints.More = "http://"+topo.HTTP, topo.GRPC, nil
	if t.Tools != nil {
		t.Tools.Adapter, t.Tools.Observe = topo.ToolAdapter+tooladapter.CallPath, topo.ToolServerSeen
	}
	if chaos != nil {
		chaos.Nodes = embeddedNodes{rt: rt}
		t.Dependencies = embeddedDependencies(chaos.Engine, topo)
		fmt.Fprintf(stderr, "arcert: %d fault proxies stand on the runtime's links\n", len(t.Dependencies))
	}
	return t, chaos, stop, nil
}

// runtimeLogger is the embedded runtime's logger: text at info level into the file at path
// (created or truncated), or a discarding one when path is empty. closeLog closes the file once
// the runtime has stopped.
func runtimeLogger(path string) (logger *slog.Logger, closeLog func(), err error) {
	if path == "" {
		return slog.New(slog.DiscardHandler), func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--runtime-log: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo})), func() { _ = f.Close() }, nil
}
