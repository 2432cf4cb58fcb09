package fault

import (
	"context"
	"fmt"
)

// Node fault kinds: they take one of the runtime's own parts away rather than cut a link, so they
// go through Nodes, not through toxiproxy. Each is undone the way an operator would undo it.
const (
	// Kill stops a part abruptly (SIGKILL); Nodes.Restart undoes it.
	Kill Kind = "kill"
	// Stop stops a part gracefully, as a drained node; Nodes.Restart starts it again.
	Stop Kind = "stop"
	// Pause freezes a part's processes, its connections left hanging; Unpause undoes it.
	Pause Kind = "pause"
	// Partition takes a part off the deployment's network while it runs; Connect undoes it.
	Partition Kind = "partition"
)

// IsNode reports whether the kind is a node fault (Kill, Stop, Pause, Partition), injected
// through Nodes rather than on a link.
func (k Kind) IsNode() bool {
	switch k {
	case Kill, Stop, Pause, Partition:
		return true
	}
	return false
}

// Stopper is a Nodes that can also stop a part gracefully; Nodes.Restart starts it again. Stop
// returns once the part's process has ended (FLT-4 takes what answers after that moment as the
// restarted process, not the stopping one).
type Stopper interface {
	Stop(ctx context.Context, role, name string) error
}

// Pauser is a Nodes that can freeze a part and resume it.
type Pauser interface {
	Pause(ctx context.Context, role, name string) error
	Unpause(ctx context.Context, role, name string) error
}

// Partitioner is a Nodes that can take a part off the network and put it back.
type Partitioner interface {
	Disconnect(ctx context.Context, role, name string) error
	Connect(ctx context.Context, role, name string) error
}

// InjectNode puts a node fault of kind on the part role/name and returns what undoes it. The undo
// is returned even when the injection fails, because a fault that failed midway (a kill whose
// answer was lost) may still have taken the part away: the caller registers it either way. A
// Nodes without the capability the kind needs gives ErrUnsupported and no undo.
func InjectNode(ctx context.Context, n Nodes, kind Kind, role, name string) (undo func(context.Context) error, err error) {
	if n == nil {
		return nil, fmt.Errorf("%w: %s of %s %s: no nodes to act on", ErrUnsupported, kind, role, name)
	}
	var do func(context.Context, string, string) error
	switch kind {
	case Kill:
		do, undo = n.Kill, func(ctx context.Context) error { return n.Restart(ctx, role, name) }
	case Stop:
		s, ok := n.(Stopper)
		if !ok {
			return nil, fmt.Errorf("%w: %s of %s %s: the deployment cannot stop parts", ErrUnsupported, kind, role, name)
		}
		do, undo = s.Stop, func(ctx context.Context) error { return n.Restart(ctx, role, name) }
	case Pause:
		p, ok := n.(Pauser)
		if !ok {
			return nil, fmt.Errorf("%w: %s of %s %s: the deployment cannot pause parts", ErrUnsupported, kind, role, name)
		}
		do, undo = p.Pause, func(ctx context.Context) error { return p.Unpause(ctx, role, name) }
	case Partition:
		p, ok := n.(Partitioner)
		if !ok {
			return nil, fmt.Errorf("%w: %s of %s %s: the deployment cannot partition parts", ErrUnsupported, kind, role, name)
		}
		do, undo = p.Disconnect, func(ctx context.Context) error { return p.Connect(ctx, role, name) }
	default:
		return nil, fmt.Errorf("%w: %q is not a node fault", ErrFault, kind)
	}
	if err := do(ctx, role, name); err != nil {
		return undo, fmt.Errorf("fault: %s of %s %s: %w", kind, role, name, err)
	}
	return undo, nil
}
