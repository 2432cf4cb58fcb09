package scenario

import (
	"context"
	"errors"
	"sync"
	"time"
)

// registry holds the undo of every fault in force, registered at the moment of injection so that a
// run that fails midway (a panic, an abort, a failed injection) still heals what it broke. An undo
// that fails stays registered; rollback tries it once more, and what is still left is residue.
type registry struct {
	mu    sync.Mutex
	next  int
	items []*undoItem
}

// undoItem is one registered undo.
type undoItem struct {
	id   int
	what string
	fn   func(context.Context) error
}

// add registers fn (described by what) and returns what releases it: run fn once and forget it
// when it succeeded.
func (r *registry) add(what string, fn func(context.Context) error) func(context.Context) error {
	r.mu.Lock()
	r.next++
	it := &undoItem{id: r.next, what: what, fn: fn}
	r.items = append(r.items, it)
	r.mu.Unlock()
	return func(ctx context.Context) error { return r.release(ctx, it) }
}

// release runs it's undo if it is still registered and forgets it on success.
func (r *registry) release(ctx context.Context, it *undoItem) error {
	r.mu.Lock()
	held := false
	for _, x := range r.items {
		held = held || x == it
	}
	r.mu.Unlock()
	if !held {
		return nil
	}
	if err := safeUndo(ctx, it.fn); err != nil {
		return err
	}
	r.mu.Lock()
	for i, x := range r.items {
		if x == it {
			r.items = append(r.items[:i], r.items[i+1:]...)
			break
		}
	}
	r.mu.Unlock()
	return nil
}

// safeUndo runs fn, turning a panic into an error so one broken undo does not stop the others.
func safeUndo(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errors.New("undo panicked: " + panicText(p))
		}
	}()
	return fn(ctx)
}

// rollback releases every undo still registered, newest first, and records each attempt. An undo
// that fails is left registered: it is residue.
func (r *registry) rollback(ctx context.Context, now func() time.Time) []RollbackEntry {
	r.mu.Lock()
	items := append([]*undoItem(nil), r.items...)
	r.mu.Unlock()
	var out []RollbackEntry
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		e := RollbackEntry{What: it.what}
		if err := r.release(ctx, it); err != nil {
			e.Error = err.Error()
		}
		e.At = now()
		out = append(out, e)
	}
	return out
}

// left names every undo still registered.
func (r *registry) left() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, it := range r.items {
		out = append(out, it.what)
	}
	return out
}
