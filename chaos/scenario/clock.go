package scenario

import (
	"sync"
	"time"
)

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// VirtualClock is a clock on which waiting takes no time: After moves the clock forward by d and
// fires at once. A run on it plays its whole schedule as fast as Send returns, so a ten-minute
// game day can be measured (memory, counts) in seconds. Only the run's scheduler waits on the
// clock, so the time it shows is the schedule's. It is safe for concurrent use.
type VirtualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewVirtualClock returns a virtual clock showing start.
func NewVirtualClock(start time.Time) *VirtualClock { return &VirtualClock{now: start} }

// Now returns the clock's time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After advances the clock by d (when positive) and returns a channel that already holds the new
// time.
func (c *VirtualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	now := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}
