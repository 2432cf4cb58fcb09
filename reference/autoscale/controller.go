package autoscale

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Group is what the controller scales: a set of workers it can observe and resize by one.
type Group interface {
	// Observe reports the group's load now.
	Observe(ctx context.Context) Observation
	// Add starts one more worker and returns once it takes work (after its warm-up), or fails.
	Add(ctx context.Context) error
	// Remove drains and stops one worker the controller added.
	Remove(ctx context.Context) error
}

// Recorder keeps a decision, as the control plane's versioned autoscale document.
type Recorder func(ctx context.Context, d Decision, o Observation) error

// Controller runs Decide every Interval against Group until its context ends.
type Controller struct {
	Group    Group
	Policy   Policy
	Interval time.Duration
	// Record, when set, is called with every resize before it is carried out, so the record of
	// a decision exists even if the resize fails; a failed record is logged, not fatal.
	Record Recorder
	Log    *slog.Logger
}

// Run scales the group until ctx ends. A resize is carried out on Run's goroutine: an added
// worker's warm-up holds the next decision, which then sees the capacity it added. Run returns
// nil once ctx ends, after the resize in progress (which ctx also ends) has returned.
func (c *Controller) Run(ctx context.Context) error {
	if c.Interval <= 0 {
		return fmt.Errorf("autoscale: interval %s must be positive", c.Interval)
	}
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	var s State
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		o := c.Group.Observe(ctx)
		var d Decision
		d, s = Decide(o, c.Policy, s)
		if d.Action == Hold {
			continue
		}
		if c.Record != nil {
			if err := c.Record(ctx, d, o); err != nil {
				log.Warn("autoscale decision not recorded", "action", d.Action, "err", err)
			}
		}
		log.Info("autoscale", "action", d.Action, "workers", d.Want, "reason", d.Reason)
		var err error
		for n := o.Workers; n != d.Want && err == nil && ctx.Err() == nil; {
			if d.Want > n {
				err, n = c.Group.Add(ctx), n+1
			} else {
				err, n = c.Group.Remove(ctx), n-1
			}
		}
		if err != nil && ctx.Err() == nil {
			log.Error("autoscale resize failed", "action", d.Action, "err", err)
		}
	}
}
