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
	// Record, when set, is called once every resize has been carried out, with what it reached:
	// Want is the workers the group has after it, and a resize that failed says so in Reason, so
	// the record never claims capacity that was not added. A failed record is logged, not fatal.
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
		log.Info("autoscale", "action", d.Action, "workers", d.Want, "reason", d.Reason)
		n := o.Workers
		var err error
		for n != d.Want && err == nil && ctx.Err() == nil {
			if d.Want > n {
				if err = c.Group.Add(ctx); err == nil {
					n++
				}
			} else {
				err = c.Group.Remove(ctx)
				n-- // a failed Remove still took the worker out of the group
			}
		}
		if err != nil && ctx.Err() == nil {
			log.Error("autoscale resize failed", "action", d.Action, "err", err)
			d.Reason = fmt.Sprintf("%s; failed at %d workers: %v", d.Reason, n, err)
		}
		d.Want = n
		if c.Record != nil && n > 0 && ctx.Err() == nil {
			if err := c.Record(ctx, d, o); err != nil {
				log.Warn("autoscale decision not recorded", "action", d.Action, "err", err)
			}
		}
	}
}
