package config

import (
	"fmt"
	"time"
)

// Autoscale is the autoscaled worker group: the configured worker Worker is its first instance,
// and the autoscaler (reference/autoscale) adds copies of it, up to MaxWorkers, while work for its
// model waits, and removes them, down to MinWorkers, once they idle. The group's workers serve
// only their own models and add no capacity to the router's admission: their engines' batch and
// waiting limits are the group's capacity, so scaling it never changes the admission capacity.
// Admission is still shared: each of the group's requests holds a router admission slot while it
// runs or waits, so validation refuses a group whose MaxWorkers × (max_batch + max_waiting) could
// hold every slot of the fixed workers. Only the embedded default runs it (in-process workers); a
// zero section runs none.
type Autoscale struct {
	// Worker is the id of the template worker under workers.
	Worker     string `yaml:"worker"`
	MinWorkers int    `yaml:"min_workers"`
	MaxWorkers int    `yaml:"max_workers"`
	// ScaleOutAfter is how long pressure (work waiting on the group, or every batch slot running
	// since work last waited) must last before one worker is added; ScaleInAfter how long the
	// group must idle before one is removed.
	ScaleOutAfter time.Duration `yaml:"scale_out_after"`
	ScaleInAfter  time.Duration `yaml:"scale_in_after"`
	// Cooldown is the least time between two decisions, so an added worker's capacity shows
	// before the next is asked for.
	Cooldown time.Duration `yaml:"cooldown"`
	// Interval is how often the autoscaler looks; 0 means the router's health interval.
	Interval time.Duration `yaml:"interval"`
	// LoadPerGB is the warm-up an added worker pays per 1e9 bytes of its models' weights, after
	// pulling their artifacts from the registry and before it takes work.
	LoadPerGB time.Duration `yaml:"load_per_gb"`
}

// Enabled reports whether the configuration declares an autoscaled group.
func (a Autoscale) Enabled() bool { return a.Worker != "" }

// validateAutoscale checks the autoscale section against the declared workers.
func (c *Config) validateAutoscale(v *validator) {
	a := c.Autoscale
	if !a.Enabled() {
		// Without its worker the section scales nothing: each key set would be silently ignored.
		for _, k := range []struct {
			key string
			set bool
		}{
			{"min_workers", a.MinWorkers != 0}, {"max_workers", a.MaxWorkers != 0},
			{"scale_out_after", a.ScaleOutAfter != 0}, {"scale_in_after", a.ScaleInAfter != 0},
			{"cooldown", a.Cooldown != 0}, {"interval", a.Interval != 0}, {"load_per_gb", a.LoadPerGB != 0},
		} {
			if k.set {
				v.add("autoscale."+k.key, "is set but autoscale.worker is not: without its template worker nothing is scaled")
			}
		}
		return
	}
	w, ok := c.Worker(a.Worker)
	switch {
	case !ok:
		v.add("autoscale.worker", "worker %q is not declared under workers", a.Worker)
	case w.Role == RolePrefill:
		v.add("autoscale.worker", "worker %q is a prefill worker; an autoscaled group serves requests", a.Worker)
	case w.Device.Backend != "" && w.Device.Backend != DeviceSim:
		// Instances copy the template's device; a real GPU's index cannot be shared by copies.
		v.add("autoscale.worker", "worker %q has device backend %q; an autoscaled template must use backend sim", a.Worker, w.Device.Backend)
	}
	for _, other := range c.Workers {
		if ok && other.ID != w.ID && sharesModel(other, w) {
			v.add("autoscale.worker", "worker %s also serves a model of %s; an autoscaled group's models must be its own, so its capacity moves no other", other.ID, a.Worker)
		}
	}
	if a.MinWorkers < 1 {
		v.add("autoscale.min_workers", "must be at least 1 (the template worker), got %d", a.MinWorkers)
	}
	if a.MaxWorkers < a.MinWorkers {
		v.add("autoscale.max_workers", "%d is below min_workers %d", a.MaxWorkers, a.MinWorkers)
	}
	if fixed, held := c.admissionSlots(a.Worker), a.MaxWorkers*(w.Engine.MaxBatch+w.Engine.MaxWaiting); ok && a.MaxWorkers >= a.MinWorkers && held >= fixed {
		v.add("autoscale.max_workers", "%d instances hold up to %d admitted requests (max_batch %d + max_waiting %d each), not fewer than the %d admission slots of the fixed workers in %s: the group could take every slot from the other models",
			a.MaxWorkers, held, w.Engine.MaxBatch, w.Engine.MaxWaiting, fixed, c.Runtime.Region)
	}
	if a.MaxWorkers > MaxAutoscaleWorkers {
		v.add("autoscale.max_workers", "%d is above %d", a.MaxWorkers, MaxAutoscaleWorkers)
	}
	for name, d := range map[string]time.Duration{"scale_out_after": a.ScaleOutAfter, "scale_in_after": a.ScaleInAfter} {
		if d <= 0 {
			v.add("autoscale."+name, "must be greater than zero, got %s", d)
		}
	}
	for name, d := range map[string]time.Duration{"cooldown": a.Cooldown, "interval": a.Interval, "load_per_gb": a.LoadPerGB} {
		if d < 0 {
			v.add("autoscale."+name, "must not be negative, got %s", d)
		}
	}
}

// admissionSlots is the router's admission capacity from the configured workers: the batch slots
// of the serving workers in the runtime's region, less the autoscaled template's (the group's
// workers are elastic and add none). The group's own requests are admitted against it too.
func (c *Config) admissionSlots(template string) int {
	n := 0
	for _, w := range c.Workers {
		if w.ID != template && w.Role != RolePrefill && w.Region == c.Runtime.Region {
			n += w.Engine.MaxBatch
		}
	}
	return n
}

// MaxAutoscaleWorkers bounds an autoscaled group: every instance is a process's worth of ports
// and goroutines here.
const MaxAutoscaleWorkers = 16

// sharesModel reports whether a and b serve a model in common.
func sharesModel(a, b Worker) bool {
	for _, m := range a.Models {
		for _, n := range b.Models {
			if m == n {
				return true
			}
		}
	}
	return false
}

// Instance is the configuration of the autoscaled group's instance n (n >= 2; 1 is the template):
// the template's, under its own id and a free port.
func (a Autoscale) Instance(template Worker, n int) Worker {
	w := template
	w.ID = fmt.Sprintf("%s-%d", template.ID, n)
	w.Listen, w.Address = "127.0.0.1:0", ""
	w.Models = append([]string(nil), template.Models...)
	return w
}
