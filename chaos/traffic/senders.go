package traffic

import (
	"context"
	"sync"
	"time"
)

// arrival is one scheduled request of an open-loop run.
type arrival struct {
	i  int
	at time.Time
}

// senders runs an open-loop run's fire calls on goroutines that outlive one call: a goroutine
// that has finished a call takes the next arrival if it is idle when that arrival is due. A
// goroutine per request grows a fresh stack for every call (runtime.newstack was 8–9 % of the
// harness's CPU at 5,000 requests/s), and the run's peak concurrency of goroutines is enough.
//
// An arrival that finds no goroutine idle starts a new one at once, so the loop stays open: no
// arrival ever waits for a call to end. Goroutines started in a burst stay parked, holding only
// their stacks, until the run ends (wait).
type senders struct {
	ctx  context.Context
	fire func(ctx context.Context, i int, scheduled time.Time)
	// idle hands an arrival to a goroutine blocked receiving on it; unbuffered, so a send that
	// does not complete at once means every goroutine is busy.
	idle    chan arrival
	wg      sync.WaitGroup
	started int // goroutines started; only send, on the loop's goroutine, touches it
}

func newSenders(ctx context.Context, fire func(ctx context.Context, i int, scheduled time.Time)) *senders {
	return &senders{ctx: ctx, fire: fire, idle: make(chan arrival)}
}

// send fires a at once: on an idle goroutine if there is one, else on a new one.
func (s *senders) send(a arrival) {
	select {
	case s.idle <- a:
	default:
		s.started++
		s.wg.Go(func() { s.loop(a) })
	}
}

// loop fires a, then every arrival handed to it, until wait closes the hand-over.
func (s *senders) loop(a arrival) {
	for ok := true; ok; a, ok = <-s.idle {
		s.fire(s.ctx, a.i, a.at)
	}
}

// wait returns, when every fire call has returned, how many goroutines the run started; no send
// may follow it.
func (s *senders) wait() int {
	close(s.idle)
	s.wg.Wait()
	return s.started
}
