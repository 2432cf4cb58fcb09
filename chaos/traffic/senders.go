package traffic

import (
	"context"
	"sync"
	"sync/atomic"
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
// arrival ever waits for a call to end. After a burst (a fault that held every call until its
// timeout) at most maxIdleSenders goroutines stay parked; the rest end.
type senders struct {
	ctx  context.Context
	fire func(ctx context.Context, i int, scheduled time.Time)
	// idle hands an arrival to a goroutine blocked receiving on it; unbuffered, so a send that
	// does not complete at once means every goroutine is busy.
	idle    chan arrival
	parked  atomic.Int64 // goroutines waiting on idle, or about to
	wg      sync.WaitGroup
	started int // goroutines started; only send, on the loop's goroutine, touches it
}

// maxIdleSenders bounds the goroutines kept parked between calls: more than the calls in flight
// at 20,000/s with 10 ms answers, far fewer than a burst of calls held by a fault can start.
const maxIdleSenders = 256

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

// loop fires a, then every arrival handed to it, until wait closes the hand-over or enough
// other goroutines are parked already.
func (s *senders) loop(a arrival) {
	for {
		s.fire(s.ctx, a.i, a.at)
		if s.parked.Add(1) > maxIdleSenders {
			s.parked.Add(-1)
			return
		}
		var ok bool
		a, ok = <-s.idle
		s.parked.Add(-1)
		if !ok {
			return
		}
	}
}

// wait returns, when every fire call has returned, how many goroutines the run started; no send
// may follow it.
func (s *senders) wait() int {
	close(s.idle)
	s.wg.Wait()
	return s.started
}
