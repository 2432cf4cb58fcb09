package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/reference/autoscale"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/control"
	"github.com/aruntime/arcert/reference/routing"
)

// AutoscaleDefects break the autoscaler, for the negative controls of SCL-1 only.
type AutoscaleDefects struct {
	// Never runs no autoscaler: the group stays at its template worker whatever waits.
	Never bool
	// WarmUpFactor multiplies an added worker's load time (0 and 1 leave it as configured).
	WarmUpFactor int
}

// scaleGroup is the autoscaled worker group of an embedded runtime: the template worker and the
// instances the controller added, newest last.
type scaleGroup struct {
	rt       *Runtime
	pool     *routing.Pool
	template config.Worker
	warm     time.Duration

	mu    sync.Mutex // guards added and next
	added []string
	next  int // the number of the next instance (the template is 1)
}

// startAutoscaler runs the autoscale section's controller when the router and the template
// worker both run here: it can only add in-process workers.
func (rt *Runtime) startAutoscaler(ctx context.Context, pool *routing.Pool) error {
	a := rt.cfg.Autoscale
	if !a.Enabled() || rt.opts.Defects.Autoscale.Never {
		return nil
	}
	if !slices.Contains(rt.opts.Workers, a.Worker) {
		rt.log.Warn("autoscale needs its template worker in this process; not scaling", "worker", a.Worker)
		return nil
	}
	tmpl, _ := rt.cfg.Worker(a.Worker)
	var weights uint64
	for _, name := range tmpl.Models {
		m, _ := rt.cfg.Model(name)
		weights += m.WeightsBytes
	}
	warm := time.Duration(float64(a.LoadPerGB) * float64(weights) / 1e9)
	if f := rt.opts.Defects.Autoscale.WarmUpFactor; f > 1 {
		warm *= time.Duration(f)
	}
	g := &scaleGroup{rt: rt, pool: pool, template: tmpl, warm: warm, next: 2}
	c := &autoscale.Controller{Group: g, Interval: a.Interval, Log: rt.log.With("part", "autoscale"),
		Policy: autoscale.Policy{Min: a.MinWorkers, Max: a.MaxWorkers, ScaleOutAfter: a.ScaleOutAfter, ScaleInAfter: a.ScaleInAfter, Cooldown: a.Cooldown}}
	if rt.control != nil {
		c.Record = g.record
		// The first document says what the group starts as, so its history begins at the start.
		if err := g.record(ctx, autoscale.Decision{Action: autoscale.Hold, Want: 1, Reason: "started with the template worker"}, g.Observe(ctx)); err != nil {
			return fmt.Errorf("autoscale: %w", err)
		}
	}
	rt.goDependent("autoscale", func() error { return c.Run(ctx) })
	return nil
}

// record writes decision d as the next revision of the group's control-plane document.
func (g *scaleGroup) record(ctx context.Context, d autoscale.Decision, o autoscale.Observation) error {
	_, err := g.rt.control.Put(ctx, control.BucketAutoscale, g.template.ID, control.AutoscaleDoc{
		Model: g.template.Models[0], Workers: d.Want, Action: string(d.Action), Reason: d.Reason,
		Waiting: o.Waiting, Running: o.Running, Capacity: o.Capacity})
	return err
}

// member reports whether w is one of the group's workers.
func (g *scaleGroup) member(w *routing.Worker) bool {
	return w.ID == g.template.ID || slices.Contains(g.instances(), w.ID)
}

func (g *scaleGroup) instances() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.added)
}

// Observe sums what the group's workers last reported to the router's health polls.
func (g *scaleGroup) Observe(context.Context) autoscale.Observation {
	o := autoscale.Observation{At: time.Now(), Workers: 1 + len(g.instances())}
	for _, w := range g.pool.Workers() {
		if !g.member(w) {
			continue
		}
		h := w.Health()
		if !w.Healthy() || h == nil {
			o.Unobserved++ // its load is not known: not a reason to scale either way
			continue
		}
		o.Waiting += int(h.GetWaiting())
		o.Running += int(h.GetRunning())
		o.Capacity += int(h.GetMaxBatch())
	}
	return o
}

// Add starts the next instance (it pulls its pinned artifacts from the registry, then pays the
// load time of its weights), puts it in the routing pool behind the same interposition as the
// configured workers (so chaos on the region's links reaches it too) and returns once a health
// poll found it healthy, so the controller's next look sees its capacity. An instance that is not
// healthy within addHealthPolls health intervals is taken out and stopped: the controller must not
// stall on it, and records the failure.
func (g *scaleGroup) Add(ctx context.Context) error {
	g.mu.Lock()
	n := g.next
	g.next++
	g.mu.Unlock()
	w := g.rt.cfg.Autoscale.Instance(g.template, n)
	addr, err := g.rt.startWorkerAs(ctx, w, len(g.rt.cfg.Workers)+n, g.warm)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.added = append(g.added, w.ID)
	g.mu.Unlock()
	dial, err := g.rt.interpose(ctx, Link{Role: link.RoleRegion, Name: w.Region, Part: w.ID, Upstream: addr})
	if err != nil {
		return errors.Join(err, g.stopInstance(ctx, w.ID, ""))
	}
	g.rt.workersMu.Lock()
	g.rt.topology.Dials["router"] = append(g.rt.topology.Dials["router"], dial)
	g.rt.workersMu.Unlock()
	rw, err := g.pool.Add(routing.Endpoint{ID: w.ID, Address: dial, Region: w.Region, Pool: w.Pool, Models: w.Models, Role: w.Role, Elastic: true})
	if err != nil {
		return errors.Join(err, g.stopInstance(ctx, w.ID, dial))
	}
	bound := addHealthPolls * g.rt.cfg.Router.HealthInterval
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	t := time.NewTicker(addPoll)
	defer t.Stop()
	for !rw.Healthy() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			err := fmt.Errorf("autoscale: %s was not healthy within %s (%d health intervals); stopped", w.ID, bound, addHealthPolls)
			g.rt.log.Error("autoscale: added worker never became healthy", "worker", w.ID, "bound", bound)
			rctx, cancel := context.WithTimeout(ctx, g.removeBound())
			defer cancel()
			return errors.Join(err, g.pool.Remove(rctx, w.ID), g.stopInstance(rctx, w.ID, dial))
		case <-t.C:
		}
	}
	return nil
}

// addPoll is how often Add looks whether the router found a new instance healthy; addHealthPolls
// how many health intervals it waits for that.
const (
	addPoll        = 10 * time.Millisecond
	addHealthPolls = 5
)

// removeBound is how long a removal waits for the leases of the instance it drains: the longest
// class deadline (no admitted request outlives it) plus the drain timeout.
func (g *scaleGroup) removeBound() time.Duration {
	var longest time.Duration
	for _, c := range g.rt.cfg.TrafficClasses {
		longest = max(longest, c.Deadline)
	}
	return longest + g.rt.cfg.Router.DrainTimeout
}

// Remove drains the newest instance out of the routing pool, then stops it. The drain is bounded
// by removeBound, so a lease that never ends cannot stall the controller.
func (g *scaleGroup) Remove(ctx context.Context) error {
	g.mu.Lock()
	if len(g.added) == 0 {
		g.mu.Unlock()
		return errors.New("autoscale: no added worker to remove")
	}
	id := g.added[len(g.added)-1]
	g.mu.Unlock()
	var dial string
	for _, w := range g.pool.Workers() {
		if w.ID == id {
			dial = w.Address
		}
	}
	rctx, cancel := context.WithTimeout(ctx, g.removeBound())
	defer cancel()
	err := g.pool.Remove(rctx, id)
	if err != nil {
		g.rt.log.Warn("autoscale: drained worker cut after the bound", "worker", id, "bound", g.removeBound(), "err", err)
	}
	return errors.Join(err, g.stopInstance(ctx, id, dial))
}

// stopInstance stops instance id and forgets it, with the address the router dialled it by.
func (g *scaleGroup) stopInstance(ctx context.Context, id, dial string) error {
	g.mu.Lock()
	g.added = slices.DeleteFunc(g.added, func(s string) bool { return s == id })
	g.mu.Unlock()
	rt := g.rt
	rt.workersMu.Lock()
	h, ok := rt.workers[id]
	delete(rt.workers, id)
	delete(rt.topology.Workers, id)
	if dial != "" {
		rt.topology.Dials["router"] = slices.DeleteFunc(rt.topology.Dials["router"], func(d string) bool { return d == dial })
	}
	rt.workersMu.Unlock()
	if !ok {
		return nil
	}
	h.killed.Store(true) // a stop the autoscaler asked for, not a failure of the runtime
	h.stop()
	if h.forget != nil {
		h.forget() // its id is never reused: its series would be exported for ever
	}
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
