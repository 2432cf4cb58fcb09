package runtime

import (
	"context"
	"time"

	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/control"
	"github.com/aruntime/arcert/reference/worker"
)

// applyFunc is how a worker's applier switches its artifacts: the worker's own Apply, unless a
// negative control (Defects.Operations) switched on one of the rollout bugs below.
func (rt *Runtime) applyFunc(srv *worker.Server, models []config.Model) control.ApplyFunc {
	d := rt.opts.Defects.Operations
	if d.VerifyAfterSwitch > 0 {
		return func(ctx context.Context, model, digest string) error {
			prev := srv.SwitchUnverified(model, digest)
			select {
			case <-time.After(d.VerifyAfterSwitch): // "verification runs in the background"
			case <-ctx.Done():
			}
			err := srv.Apply(ctx, model, digest)
			if err != nil {
				srv.SwitchUnverified(model, prev)
			}
			return err
		}
	}
	if !d.SkipPulledDigests && !d.RevertToConfiguredPin {
		return srv.Apply
	}
	pins := map[string]string{}
	for _, m := range models {
		pins[m.Name] = m.ArtifactDigest
	}
	pulled := map[string]bool{} // the applier calls apply from one goroutine only
	return func(ctx context.Context, model, digest string) error {
		if d.SkipPulledDigests && pulled[model+"@"+digest] {
			return nil // "already on disk": taken as applied, but the worker never switches to it
		}
		err := srv.Apply(ctx, model, digest)
		switch {
		case err != nil && d.RevertToConfiguredPin && pins[model] != digest:
			// "Back to the last known good", read from the configuration rather than from what
			// the worker was serving.
			if rerr := srv.Apply(ctx, model, pins[model]); rerr != nil {
				rt.log.Warn("revert to the configured pin failed", "model", model, "err", rerr)
			}
		case err == nil && d.SkipPulledDigests && pins[model] != digest:
			pulled[model+"@"+digest] = true
		}
		return err
	}
}

// replacedOffControl reports whether worker w, being replaced, comes back without following the
// control plane: only under the negative control that forgets the applier for replacements
// outside the primary region.
func (rt *Runtime) replacedOffControl(w config.Worker) bool {
	if !rt.opts.Defects.Operations.ReplaceWithoutApplierOffRegion || w.Region == rt.cfg.Runtime.Region {
		return false
	}
	rt.workersMu.Lock()
	defer rt.workersMu.Unlock()
	_, replacing := rt.topology.Workers[w.ID]
	return replacing
}
