package routing

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// members is one immutable version of the pool's set of workers. Add and Remove build a new one
// and swap it in, so Pick reads a consistent set with one atomic load and no lock.
type members struct {
	workers []*Worker
	byModel map[string][]*Worker
	prefill map[string][]*Worker // prefill workers by model
}

func (m *members) has(id string) bool {
	return slices.ContainsFunc(m.workers, func(w *Worker) bool { return w.ID == id })
}

// with is m plus w.
func (m *members) with(w *Worker) *members {
	out := m.rebuild(append(slices.Clone(m.workers), w))
	return out
}

// without is m less the worker id.
func (m *members) without(id string) *members {
	return m.rebuild(slices.DeleteFunc(slices.Clone(m.workers), func(w *Worker) bool { return w.ID == id }))
}

// rebuild indexes workers by model into a new set.
func (m *members) rebuild(workers []*Worker) *members {
	out := &members{workers: workers, byModel: map[string][]*Worker{}, prefill: map[string][]*Worker{}}
	for _, w := range workers {
		for _, model := range w.Models {
			if w.Role == RolePrefill {
				out.prefill[model] = append(out.prefill[model], w)
				continue
			}
			out.byModel[model] = append(out.byModel[model], w)
		}
	}
	return out
}

// Add puts endpoint e in the pool at run time, as an autoscaler does once a new worker is warm.
// Its poller starts at once when Run runs; it takes work once a poll finds it healthy, never
// before.
func (p *Pool) Add(e Endpoint) (*Worker, error) {
	p.setMu.Lock()
	defer p.setMu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("%w: not adding %q", ErrClosed, e.ID)
	}
	set := p.set.Load()
	w, err := p.newWorker(set, e)
	if err != nil {
		return nil, err
	}
	p.set.Store(set.with(w))
	if p.runCtx != nil && p.runCtx.Err() == nil {
		p.startWatch(p.runCtx, w)
	}
	p.log.Info("worker added", "worker", e.ID, "models", e.Models)
	p.signal()
	return w, nil
}

// ErrRemoved means the worker asked for is not in the pool.
var ErrRemoved = fmt.Errorf("%w: no such worker in the pool", ErrOptions)

// removePoll is how often Remove looks whether a removed worker's leases have ended.
const removePoll = 20 * time.Millisecond

// Remove takes worker id out of the pool and drains it: no new request is picked for it from the
// moment it returns from the set swap, and Remove waits (up to ctx) for the requests leased to it
// to end before closing its connection, so scale-in never cuts work in flight. On ctx's end the
// connection is closed anyway and ctx's error returned.
func (p *Pool) Remove(ctx context.Context, id string) error {
	p.setMu.Lock()
	set := p.set.Load()
	i := slices.IndexFunc(set.workers, func(w *Worker) bool { return w.ID == id })
	if i < 0 {
		p.setMu.Unlock()
		return fmt.Errorf("%w: %q", ErrRemoved, id)
	}
	w := set.workers[i]
	p.set.Store(set.without(id))
	p.setMu.Unlock()
	// A Pick that loaded the old set may still lease w: it takes p.mu for its choice, so once we
	// have held p.mu no such Pick is in progress, and any lease it took is counted below.
	p.mu.Lock()
	p.mu.Unlock() //nolint:staticcheck // an empty critical section: a barrier against in-progress Picks
	close(w.stop)
	p.signal()
	t := time.NewTicker(removePoll)
	defer t.Stop()
	var err error
	for w.outstanding.Load() > 0 && err == nil {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-t.C:
		}
	}
	if cerr := w.conn.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("routing: close %s: %w", id, cerr)
	}
	p.log.Info("worker removed", "worker", id, "err", err)
	return err
}
