package scenario

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/ledger"
)

// fakeRuntime serves every request unless a fault has set it down; then it fails them with
// dependency_unavailable. Its clock stamps the entries.
type fakeRuntime struct {
	clock Clock
	down  atomic.Bool
	// heals counts the heals of its down fault; panicOn makes Send panic on that Seq.
	heals   atomic.Int32
	panicOn int
	sent    atomic.Int64
}

func newFake(clock Clock) *fakeRuntime {
	if clock == nil {
		clock = realClock{}
	}
	return &fakeRuntime{clock: clock}
}

func (f *fakeRuntime) send(ctx context.Context, req Request) ledger.Entry {
	if f.panicOn != 0 && req.Seq == f.panicOn {
		panic("fake runtime broke on purpose")
	}
	f.sent.Add(1)
	now := f.clock.Now()
	e := ledger.Entry{Seq: req.Seq, Tenant: req.Tenant, Class: req.Class, Start: now, End: now.Add(2 * time.Millisecond),
		Deadline: time.Second, RequestID: "req-" + req.Tenant}
	switch {
	case ctx.Err() != nil:
		e.Indeterminate = true
	case f.down.Load():
		e.Outcome, e.Reason = outcome.Failed, outcome.ReasonDependencyUnavailable
	default:
		e.Outcome, e.TTFT, e.ServedBy = outcome.Completed, time.Millisecond, outcome.ServedBy{Region: "eu-west", Provider: "local"}
	}
	return e
}

// downFault is a Custom fault that sets the fake runtime down and heals it.
func (f *fakeRuntime) downFault(name string, at, hold time.Duration) Fault {
	return Fault{Name: name, At: at, For: hold, Custom: func(context.Context) (func() error, error) {
		f.down.Store(true)
		return func() error {
			f.down.Store(false)
			f.heals.Add(1)
			return nil
		}, nil
	}}
}

func (f *fakeRuntime) env() Env {
	return Env{Send: f.send, Clock: f.clock}
}

// steadyOf is a steady-state hypothesis for tenants: 3 probes in a row within 2 s.
func steadyOf(tenants ...string) Steady {
	s := Steady{Probes: 3, Within: 2 * time.Second}
	for _, t := range tenants {
		s.Tenants = append(s.Tenants, SteadyTenant{Tenant: t, MinServed: 0.5})
	}
	return s
}

// events collects a run's events.
type events struct {
	mu  sync.Mutex
	all []Event
}

func (e *events) observe(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) count(k EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Kind == k {
			n++
		}
	}
	return n
}
