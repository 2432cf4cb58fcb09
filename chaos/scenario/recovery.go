package scenario

import (
	"sync"
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
)

// healWatch measures recovery from the last heal of the play, on the play's own requests: for
// each steady-state tenant, when its requests sent after that heal were first served Probes in a
// row (by the order they ended). A day whose last fault heals before a tail phase has recovered
// (or not) during that tail; counting from the end-of-day rollback, as the check after the run
// alone would, leaves that time out.
type healWatch struct {
	steady Steady

	mu    sync.Mutex
	heal  time.Time
	state map[Key]*streak
}

// streak is one tenant's served requests in a row since the heal, and when it reached Probes.
type streak struct {
	n       int
	reached time.Time
}

func newHealWatch(s Steady) *healWatch { return &healWatch{steady: s, state: map[Key]*streak{}} }

// healed notes that a fault was put back at at: every streak starts again.
func (w *healWatch) healed(at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if at.After(w.heal) {
		w.heal, w.state = at, map[Key]*streak{}
	}
}

// add counts one ended request of the play.
func (w *healWatch) add(e ledger.Entry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.heal.IsZero() || e.Start.Before(w.heal) || w.steady.Probes <= 0 {
		return
	}
	for _, t := range w.steady.Tenants {
		if t.Tenant != e.Tenant || (t.Class != "" && t.Class != e.Class) {
			continue
		}
		k := Key{Tenant: t.Tenant, Class: t.Class}
		s := w.state[k]
		if s == nil {
			s = &streak{}
			w.state[k] = s
		}
		switch {
		case !s.reached.IsZero():
		case e.Served():
			if s.n++; s.n >= w.steady.Probes {
				s.reached = e.End
			}
		default:
			s.n = 0
		}
	}
}

// recovered returns the last heal and how long after it every steady-state tenant was served
// Probes in a row; ok is false when there was no heal, no tenant to watch, or one never got there.
func (w *healWatch) recovered() (heal time.Time, took time.Duration, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.heal.IsZero() || len(w.steady.Tenants) == 0 || w.steady.Probes <= 0 {
		return time.Time{}, 0, false
	}
	for _, t := range w.steady.Tenants {
		s := w.state[Key{Tenant: t.Tenant, Class: t.Class}]
		if s == nil || s.reached.IsZero() {
			return time.Time{}, 0, false
		}
		took = max(took, s.reached.Sub(w.heal))
	}
	return w.heal, max(took, 0), true
}
