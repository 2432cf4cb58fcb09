package admission

import (
	"fmt"
	"time"
)

// DefaultBurstWindow is the BurstWindow used when Config leaves it zero. One second of quota at
// once lets a tenant send a small burst without ever showing more than its declared rate over a
// window of a few seconds or more.
const DefaultBurstWindow = time.Second

// ClassSpec is one traffic class: its own bounded queue and its place in the order in which
// freed slots are handed out.
type ClassSpec struct {
	Name string
	// Priority orders classes when a slot frees: higher is served first.
	Priority int
	// QueueCapacity bounds the class queue; a request beyond it gets ErrQueueFull at once.
	QueueCapacity int
}

// TenantSpec is one tenant's declared quota. The controller enforces exactly these numbers, so
// what GET /v1/aruntime/quotas declares is what the tenant gets.
type TenantSpec struct {
	Name              string
	RequestsPerMinute int
	TokensPerMinute   int
	// MaxConcurrency bounds the tenant's admissions that are running or queued.
	MaxConcurrency int
	// Weight is the tenant's share of each class it waits in, relative to the other tenants
	// waiting there: slots and queue places are divided in proportion to it. Zero means
	// DefaultWeight.
	Weight int
}

// DefaultWeight is a tenant's Weight when it declares none: every tenant equal.
const DefaultWeight = 1

// weight is Weight with its default applied.
func (t TenantSpec) weight() int {
	if t.Weight == 0 {
		return DefaultWeight
	}
	return t.Weight
}

// Config is everything the controller needs; the router builds it from reference/config.
type Config struct {
	Classes []ClassSpec
	Tenants []TenantSpec
	// Capacity is the number of concurrent slots. The router sets it from the batch sizes of
	// healthy workers and updates it with SetCapacity; it may be 0 at start, when every request
	// queues until a worker is healthy.
	Capacity int
	// BurstWindow is how much of the per-minute quota a tenant may spend at once: each bucket's
	// burst is rate*BurstWindow (at least 1). Over any window T the allowance is then at most
	// rate*(T+BurstWindow), so even a window of a few tens of seconds already shows the declared
	// rate within a few percent. Zero means DefaultBurstWindow.
	BurstWindow time.Duration
	// ActiveWindow is how long after its last request a tenant still counts as active, so that
	// slots are held back for it while it is below its share (headroom.go). Zero means
	// DefaultActiveWindow.
	ActiveWindow time.Duration
	// SharedFIFO is a deliberate bug for the harness's negative controls: each class queue is
	// one first-come FIFO shared by all tenants with no per-tenant share, so one tenant can fill
	// it. The zero value is the fair queue.
	SharedFIFO bool
}

// validate returns an error wrapping ErrInvalidConfig that names the first bad field.
func (c Config) validate() error {
	if len(c.Classes) == 0 {
		return fmt.Errorf("%w: Classes is empty", ErrInvalidConfig)
	}
	if len(c.Tenants) == 0 {
		return fmt.Errorf("%w: Tenants is empty", ErrInvalidConfig)
	}
	if c.Capacity < 0 {
		return fmt.Errorf("%w: Capacity is %d, want at least 0", ErrInvalidConfig, c.Capacity)
	}
	if c.ActiveWindow < 0 {
		return fmt.Errorf("%w: ActiveWindow is %v, want at least 0", ErrInvalidConfig, c.ActiveWindow)
	}
	if c.BurstWindow < 0 {
		return fmt.Errorf("%w: BurstWindow is %v, want at least 0", ErrInvalidConfig, c.BurstWindow)
	}
	classes := make(map[string]bool, len(c.Classes))
	for i, k := range c.Classes {
		field := fmt.Sprintf("Classes[%d]", i)
		if err := uniqueName(classes, field, k.Name); err != nil {
			return err
		}
		if err := positive(field+".QueueCapacity", k.QueueCapacity); err != nil {
			return err
		}
	}
	tenants := make(map[string]bool, len(c.Tenants))
	for i, t := range c.Tenants {
		field := fmt.Sprintf("Tenants[%d]", i)
		if err := uniqueName(tenants, field, t.Name); err != nil {
			return err
		}
		if t.Weight < 0 {
			return fmt.Errorf("%w: %s.Weight is %d, want at least 1 (or 0 for %d)", ErrInvalidConfig,
				field, t.Weight, DefaultWeight)
		}
		for _, f := range []struct {
			name string
			v    int
		}{
			{"RequestsPerMinute", t.RequestsPerMinute},
			{"TokensPerMinute", t.TokensPerMinute},
			{"MaxConcurrency", t.MaxConcurrency},
		} {
			if err := positive(field+"."+f.name, f.v); err != nil {
				return err
			}
		}
	}
	return nil
}

// uniqueName checks that name is set and not already in seen, then records it.
func uniqueName(seen map[string]bool, field, name string) error {
	if name == "" {
		return fmt.Errorf("%w: %s.Name is empty", ErrInvalidConfig, field)
	}
	if seen[name] {
		return fmt.Errorf("%w: %s.Name %q is declared twice", ErrInvalidConfig, field, name)
	}
	seen[name] = true
	return nil
}

// positive checks that an int field is at least 1.
func positive(field string, v int) error {
	if v < 1 {
		return fmt.Errorf("%w: %s is %d, want at least 1", ErrInvalidConfig, field, v)
	}
	return nil
}
