package scenario

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
)

// faults puts a plan's faults in force and heals them, recording each in a FaultRecord and
// registering every undo in the run's registry the moment it is injected.
type faults struct {
	plan  Plan
	env   Env
	reg   *registry
	now   func() time.Time
	emit  func(Event)
	mu    sync.Mutex
	recs  []FaultRecord
	undos [][]func(context.Context) error
}

func newFaults(plan Plan, env Env, reg *registry, now func() time.Time, emit func(Event)) *faults {
	return &faults{plan: plan, env: env, reg: reg, now: now, emit: emit,
		recs: make([]FaultRecord, len(plan.Faults)), undos: make([][]func(context.Context) error, len(plan.Faults))}
}

// kindOf names what a fault is, for its record.
func kindOf(f Fault) (kind, detail string) {
	switch {
	case f.Custom != nil:
		return "custom", ""
	case f.Command != nil:
		return "command", f.Command.Run
	}
	return string(f.Fault.Kind), f.Fault.String()
}

// inject puts fault idx in force. Whatever it managed to break before an error stays registered
// for rollback.
func (fs *faults) inject(ctx context.Context, idx int) error {
	f := fs.plan.Faults[idx]
	kind, detail := kindOf(f)
	rec := FaultRecord{Name: f.Name, Kind: kind, Detail: detail, Role: f.Select.Role, Start: fs.now()}
	targets, err := fs.apply(ctx, idx, f)
	rec.Targets = targets
	if err != nil {
		err = fmt.Errorf("injecting fault %s: %w", f.Name, err)
		rec.Error = err.Error()
	}
	fs.mu.Lock()
	fs.recs[idx] = rec
	fs.mu.Unlock()
	fs.emit(Event{Kind: EventInjected, Fault: &rec, Message: rec.Error})
	return err
}

// register adds an undo to the registry and to fault idx's own list.
func (fs *faults) register(idx int, what string, undo func(context.Context) error) {
	rel := fs.reg.add(what, undo)
	fs.mu.Lock()
	fs.undos[idx] = append(fs.undos[idx], rel)
	fs.mu.Unlock()
}

// apply does the injection proper and returns the targets it acted on.
func (fs *faults) apply(ctx context.Context, idx int, f Fault) (targets []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errors.New("panicked: " + panicText(p))
		}
	}()
	switch {
	case f.Custom != nil:
		heal, err := f.Custom(ctx)
		if heal != nil {
			fs.register(idx, "heal "+f.Name, func(context.Context) error { return heal() })
		}
		return nil, err
	case f.Command != nil:
		c := f.Command
		if c.Rollback != "" {
			fs.register(idx, "rollback command of "+f.Name, func(ctx context.Context) error {
				return runCommand(ctx, c.Rollback, c.Timeout, fs.env.CommandEnv)
			})
		}
		return nil, runCommand(ctx, c.Run, c.Timeout, fs.env.CommandEnv)
	case f.Fault.Kind.IsNode():
		if fs.env.Nodes == nil {
			return nil, fmt.Errorf("%w: no nodes in the environment", fault.ErrUnsupported)
		}
		parts, err := selectParts(fs.env.Nodes, f.Select, fs.plan.Seed, idx)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			undo, err := fault.InjectNode(ctx, fs.env.Nodes, f.Fault.Kind, f.Select.Role, p)
			if undo != nil {
				fs.register(idx, fmt.Sprintf("undo %s of %s %s (%s)", f.Fault.Kind, f.Select.Role, p, f.Name), undo)
			}
			if err != nil {
				return parts, err
			}
		}
		return parts, nil
	}
	if fs.env.Links == nil {
		return nil, errors.New("no links in the environment to put a link fault on")
	}
	links, err := selectLinks(fs.env.Links, f.Select, fs.plan.Seed, idx)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		targets = append(targets, l.String())
		a, err := fs.env.Links.InjectPart(link.Role(f.Select.Role), l.name, l.part, f.Fault)
		if err != nil {
			return targets, err
		}
		fs.register(idx, fmt.Sprintf("heal %s on %s %s (%s)", f.Fault, f.Select.Role, l, f.Name), func(context.Context) error { return a.Heal() })
	}
	return targets, nil
}

// heal undoes fault idx at the end of its window. The window ends when healing starts, as
// suites/faultrun.go's did: what a restarting part serves from then on is recovery. An undo that
// fails stays registered.
func (fs *faults) heal(ctx context.Context, idx int) error {
	fs.mu.Lock()
	undos := fs.undos[idx]
	fs.undos[idx] = nil
	fs.recs[idx].End = fs.now()
	fs.mu.Unlock()
	var errs []error
	for i := len(undos) - 1; i >= 0; i-- {
		errs = append(errs, undos[i](ctx))
	}
	err := errors.Join(errs...)
	fs.mu.Lock()
	rec := &fs.recs[idx]
	if err != nil {
		rec.Error = joinText(rec.Error, "healing: "+err.Error())
	}
	cp := *rec
	fs.mu.Unlock()
	fs.emit(Event{Kind: EventHealed, Fault: &cp, Message: cp.Error})
	return err
}

// records returns the records of the faults that were injected, in plan order.
func (fs *faults) records() []FaultRecord {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []FaultRecord
	for _, r := range fs.recs {
		if !r.Start.IsZero() {
			out = append(out, r)
		}
	}
	return out
}

// markEnded stamps the end of every injected fault still in force when rollback started.
func (fs *faults) markEnded(at time.Time) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i := range fs.recs {
		if !fs.recs[i].Start.IsZero() && fs.recs[i].End.IsZero() {
			fs.recs[i].End = at
		}
	}
}

// joinText joins two messages with "; ", leaving out an empty one.
func joinText(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// panicText renders a recovered panic value.
func panicText(p any) string {
	if err, ok := p.(error); ok {
		return err.Error()
	}
	return fmt.Sprint(p)
}
