package scenario

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// registry holds the undo of every fault in force, registered at the moment of injection so that a
// run that fails midway (a panic, an abort, a failed injection) still heals what it broke. An undo
// that fails stays registered; rollback tries it once more, and what is still left is residue.
type registry struct {
	// timeout bounds each undo: a heal or rollback that does not return within it is left
	// registered (residue) and the caller moves on.
	timeout time.Duration
	mu      sync.Mutex
	next    int
	items   []*undoItem
}

// undoItem is one registered undo.
type undoItem struct {
	id   int
	what string
	fn   func(context.Context) error
	// busy is set while an attempt runs, and stays set while a timed-out attempt has not returned:
	// a second attempt would run the same undo twice at once.
	busy bool
	// within, when longer than the registry's timeout, bounds this undo instead.
	within time.Duration
}

// addWithin registers fn (described by what) and returns what releases it: run fn once and forget
// it when it succeeded. within, when longer than the registry's timeout, bounds fn instead (a
// command fault's rollback script with its own Timeout).
func (r *registry) addWithin(what string, within time.Duration, fn func(context.Context) error) func(context.Context) error {
	r.mu.Lock()
	r.next++
	it := &undoItem{id: r.next, what: what, fn: fn, within: within}
	r.items = append(r.items, it)
	r.mu.Unlock()
	return func(ctx context.Context) error { return r.release(ctx, it) }
}

// release runs it's undo if it is still registered and forgets it on success. The undo runs on its
// own goroutine within the registry's timeout: one that hangs (a toxiproxy call with no timeout,
// a custom heal ignoring its context) is reported as failed and stays registered, and release
// returns instead of holding the run; should it return later, it is forgotten then if it succeeded.
func (r *registry) release(ctx context.Context, it *undoItem) error {
	r.mu.Lock()
	held := slices.Contains(r.items, it)
	busy := it.busy
	if held && !busy {
		it.busy = true
	}
	r.mu.Unlock()
	switch {
	case !held:
		return nil
	case busy:
		return fmt.Errorf("%s: an earlier attempt has not returned", it.what)
	}
	timeout := max(cmp.Or(r.timeout, faultActionTimeout), it.within)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	done := make(chan error, 1)
	go func() {
		defer cancel()
		err := safeUndo(ctx, it.fn)
		r.mu.Lock()
		it.busy = false
		if err == nil {
			r.items = slices.DeleteFunc(r.items, func(x *undoItem) bool { return x == it })
		}
		r.mu.Unlock()
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done: // it returned as the time ran out
			return err
		default:
		}
		return fmt.Errorf("%s did not return within %s", it.what, timeout)
	}
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
