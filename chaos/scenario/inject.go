package scenario

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// reported says whose injected event was emitted; owner maps an undo's description to its
	// fault, so a rollback undo is reported as that fault's heal.
	reported []bool
	owner    map[string]int
	// watch hears of every heal that put a fault back whole, to measure recovery from it.
	watch *healWatch
}

func newFaults(plan Plan, env Env, reg *registry, now func() time.Time, emit func(Event)) *faults {
	return &faults{plan: plan, env: env, reg: reg, now: now, emit: emit,
		recs: make([]FaultRecord, len(plan.Faults)), undos: make([][]func(context.Context) error, len(plan.Faults)),
		reported: make([]bool, len(plan.Faults)), owner: map[string]int{}}
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
// for rollback. Its record exists from the start, so a heal or a rollback that comes while it is
// still running (it hung) finds it; the injected event is emitted once, here or by timedOut.
func (fs *faults) inject(ctx context.Context, idx int) error {
	f := fs.plan.Faults[idx]
	kind, detail := kindOf(f)
	fs.mu.Lock()
	if fs.recs[idx].Start.IsZero() { // else timedOut got there first
		fs.recs[idx] = FaultRecord{Name: f.Name, Kind: kind, Detail: detail, Role: f.Select.Role, Start: fs.now()}
	}
	fs.mu.Unlock()
	targets, err := fs.apply(ctx, idx, f)
	if err != nil {
		err = fmt.Errorf("injecting fault %s: %w", f.Name, err)
	}
	fs.mu.Lock()
	rec := &fs.recs[idx]
	rec.Targets = targets
	if err != nil {
		rec.Error = joinText(rec.Error, err.Error())
	}
	late := fs.reported[idx]
	fs.reported[idx] = true
	cp := *rec
	fs.mu.Unlock()
	if !late {
		fs.emit(Event{Kind: EventInjected, Fault: &cp, Message: cp.Error, Result: actionResult(err, "in force", cp)})
	}
	return err
}

// timedOut records that fault idx's injection did not return in time: the fault failed to go
// into force as far as the run knows (whatever it registers later is rolled back).
func (fs *faults) timedOut(idx int, msg string) {
	fs.mu.Lock()
	rec := &fs.recs[idx]
	if rec.Start.IsZero() { // the injection never got as far as starting its record
		f := fs.plan.Faults[idx]
		kind, detail := kindOf(f)
		*rec = FaultRecord{Name: f.Name, Kind: kind, Detail: detail, Role: f.Select.Role, Start: fs.now()}
	}
	rec.Error = joinText(rec.Error, msg)
	late := fs.reported[idx]
	fs.reported[idx] = true
	cp := *rec
	fs.mu.Unlock()
	if !late {
		fs.emit(Event{Kind: EventInjected, Fault: &cp, Message: cp.Error, Result: &Result{Verdict: Fail, Message: msg}})
	}
}

// actionResult is the Result of an injected or healed event: FAIL with the error, or PASS.
func actionResult(err error, done string, rec FaultRecord) *Result {
	if err != nil {
		return &Result{Verdict: Fail, Message: err.Error()}
	}
	msg := fmt.Sprintf("%s %s", rec.Name, done)
	if len(rec.Targets) > 0 {
		msg += fmt.Sprintf(" on %d target(s)", len(rec.Targets))
	}
	return &Result{Verdict: Pass, Message: msg}
}

// register adds an undo to the registry and to fault idx's own list.
func (fs *faults) register(idx int, what string, undo func(context.Context) error) {
	fs.registerWithin(idx, what, 0, undo)
}

// registerWithin is register for an undo with its own, longer, bound (see registry.addWithin).
func (fs *faults) registerWithin(idx int, what string, within time.Duration, undo func(context.Context) error) {
	rel := fs.reg.addWithin(what, within, undo)
	fs.mu.Lock()
	fs.undos[idx] = append(fs.undos[idx], rel)
	fs.owner[what] = idx
	fs.mu.Unlock()
}

// rolledBack reports every fault whose undos ran in rollback as healed (EventHealed, its Result
// FAIL when an undo failed), so a watcher sees faults put back at the end of the day too.
func (fs *faults) rolledBack(entries []RollbackEntry) {
	var order []int
	errs := map[int][]string{}
	seen := map[int]bool{}
	fs.mu.Lock()
	for _, e := range entries {
		idx, ok := fs.owner[e.What]
		if !ok {
			continue
		}
		if !seen[idx] {
			seen[idx] = true
			order = append(order, idx)
		}
		if e.Error != "" {
			errs[idx] = append(errs[idx], e.Error)
		}
	}
	recs := make([]FaultRecord, len(order))
	for i, idx := range order {
		if len(errs[idx]) > 0 {
			fs.recs[idx].Error = joinText(fs.recs[idx].Error, "rolling back: "+strings.Join(errs[idx], "; "))
		}
		recs[i] = fs.recs[idx]
	}
	fs.mu.Unlock()
	for i, idx := range order {
		var err error
		if len(errs[idx]) > 0 {
			err = errors.New("rolling back " + recs[i].Name + ": " + strings.Join(errs[idx], "; "))
		}
		fs.emit(Event{Kind: EventHealed, Fault: &recs[i], Message: recs[i].Error, Result: actionResult(err, "healed in rollback", recs[i])})
	}
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
			fs.registerWithin(idx, "rollback command of "+f.Name, commandBound(*c), func(ctx context.Context) error {
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
	if err == nil && len(undos) > 0 && fs.watch != nil {
		fs.watch.healed(fs.now())
	}
	fs.mu.Lock()
	rec := &fs.recs[idx]
	if err != nil {
		rec.Error = joinText(rec.Error, "healing: "+err.Error())
	}
	cp := *rec
	fs.mu.Unlock()
	fs.emit(Event{Kind: EventHealed, Fault: &cp, Message: cp.Error, Result: actionResult(err, "healed", cp)})
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
