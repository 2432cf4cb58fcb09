package traffic

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOpenLoopRate(t *testing.T) {
	p := Profile{Name: "rate", Rate: 2000, Duration: 300 * time.Millisecond, Seed: 1}
	var fired atomic.Int64
	st := OpenLoop(t.Context(), p, func(context.Context, int, time.Time) { fired.Add(1) })
	if st.Err != nil {
		t.Fatal(st.Err)
	}
	if int64(st.Sent) != fired.Load() {
		t.Fatalf("Sent %d but fire called %d times", st.Sent, fired.Load())
	}
	want := p.Rate * p.Duration.Seconds()
	if math.Abs(float64(st.Sent)-want)/want > 0.25 {
		t.Fatalf("sent %d in %v, want %.0f ±25%%", st.Sent, p.Duration, want)
	}
	if st.Elapsed < p.Duration || st.Wall < st.Elapsed {
		t.Fatalf("elapsed %v wall %v for a %v run", st.Elapsed, st.Wall, p.Duration)
	}
	t.Logf("sent %d in %v, max lag %v", st.Sent, st.Elapsed, st.MaxLag)
}

func TestOpenLoopMaxRequestsAndSchedule(t *testing.T) {
	p := Profile{Name: "max", Rate: 5000, MaxRequests: 50, Duration: 10 * time.Second, Seed: 9}
	var mu sync.Mutex
	sched := make(map[int]time.Time)
	st := OpenLoop(t.Context(), p, func(_ context.Context, i int, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		sched[i] = at
	})
	if st.Err != nil || st.Sent != p.MaxRequests || len(sched) != p.MaxRequests {
		t.Fatalf("stats %+v, %d distinct indexes, want %d", st, len(sched), p.MaxRequests)
	}
	if st.Elapsed > time.Second {
		t.Fatalf("MaxRequests did not end the run: elapsed %v", st.Elapsed)
	}
	// The scheduled times are the seeded schedule, whatever the generator's lag.
	gaps := Arrivals(p.Seed, p.Rate, p.MaxRequests)
	for i := 1; i < p.MaxRequests; i++ {
		if got := sched[i].Sub(sched[i-1]); got != gaps[i] {
			t.Fatalf("gap %d = %v, want %v", i, got, gaps[i])
		}
	}
}

func TestOpenLoopCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	p := Profile{Name: "cancel", Rate: 1000, Duration: time.Minute, Seed: 1}
	st := OpenLoop(ctx, p, func(ctx context.Context, _ int, _ time.Time) { <-ctx.Done() })
	if st.Wall > time.Second || st.Sent == 0 {
		t.Fatalf("cancellation not prompt or nothing sent: %+v", st)
	}
}

// TestRefusedProfiles checks that an unbounded or ambiguous profile is refused by both loops before
// anything fires.
func TestRefusedProfiles(t *testing.T) {
	var fired atomic.Bool
	for _, tc := range []struct {
		p    Profile
		want error
	}{
		{Profile{Rate: 10}, ErrUnbounded},
		{Profile{Concurrency: 2}, ErrUnbounded},
		{Profile{MaxRequests: 1}, ErrShape},
		{Profile{Rate: 10, Concurrency: 2, MaxRequests: 1}, ErrShape},
		{Profile{Rate: 10, MaxRequests: -1, Duration: time.Second}, ErrShape},
	} {
		if st := OpenLoop(t.Context(), tc.p, func(context.Context, int, time.Time) { fired.Store(true) }); !errors.Is(st.Err, tc.want) {
			t.Errorf("OpenLoop(%+v) err %v, want %v", tc.p, st.Err, tc.want)
		}
		if st := ClosedLoop(t.Context(), tc.p, func(context.Context, int) { fired.Store(true) }); !errors.Is(st.Err, tc.want) {
			t.Errorf("ClosedLoop(%+v) err %v, want %v", tc.p, st.Err, tc.want)
		}
	}
	if st := ClosedLoop(t.Context(), Profile{Rate: 1, MaxRequests: 1}, func(context.Context, int) { fired.Store(true) }); !errors.Is(st.Err, ErrShape) {
		t.Errorf("ClosedLoop ran an open-loop profile: %v", st.Err)
	}
	if st := OpenLoop(t.Context(), Profile{Concurrency: 1, MaxRequests: 1}, func(context.Context, int, time.Time) { fired.Store(true) }); !errors.Is(st.Err, ErrShape) {
		t.Errorf("OpenLoop ran a closed-loop profile: %v", st.Err)
	}
	if fired.Load() {
		t.Fatal("a refused profile fired")
	}
}

func TestClosedLoopConcurrency(t *testing.T) {
	p := Profile{Name: "closed", Concurrency: 8, MaxRequests: 200, Duration: 10 * time.Second}
	var inFlight, peak, fired atomic.Int64
	st := ClosedLoop(t.Context(), p, func(context.Context, int) {
		n := inFlight.Add(1)
		for m := peak.Load(); n > m; m = peak.Load() {
			if peak.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		inFlight.Add(-1)
		fired.Add(1)
	})
	if st.Err != nil || st.Sent != p.MaxRequests || fired.Load() != int64(p.MaxRequests) {
		t.Fatalf("stats %+v, fired %d, want %d", st, fired.Load(), p.MaxRequests)
	}
	if peak.Load() > int64(p.Concurrency) || peak.Load() < 2 {
		t.Fatalf("peak concurrency %d, want 2..%d", peak.Load(), p.Concurrency)
	}
}

func TestClosedLoopDurationAndCancel(t *testing.T) {
	p := Profile{Name: "timed", Concurrency: 4, Duration: 100 * time.Millisecond}
	st := ClosedLoop(t.Context(), p, func(context.Context, int) { time.Sleep(time.Millisecond) })
	if st.Sent == 0 || st.Elapsed < p.Duration || st.Elapsed > p.Duration+time.Second {
		t.Fatalf("duration-bound run: %+v", st)
	}

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	p.Duration = time.Minute
	st = ClosedLoop(ctx, p, func(ctx context.Context, _ int) { <-ctx.Done() })
	if st.Wall > time.Second || st.Sent != p.Concurrency {
		t.Fatalf("cancelled run: %+v", st)
	}
}

// TestOpenLoopNeverWaitsForACall holds every call until all of them have started: a loop that
// handed an arrival to a goroutine only once one was free would never start the last and fail.
func TestOpenLoopNeverWaitsForACall(t *testing.T) {
	const calls = 40
	p := Profile{Name: "held", Rate: 4000, MaxRequests: calls, Duration: 10 * time.Second, Seed: 3}
	var started atomic.Int64
	all := make(chan struct{})
	timeout := make(chan struct{}) // closed, so every held call is let go if the loop failed
	time.AfterFunc(5*time.Second, func() { close(timeout) })
	st := OpenLoop(t.Context(), p, func(context.Context, int, time.Time) {
		if started.Add(1) == calls {
			close(all)
		}
		select {
		case <-all:
		case <-timeout:
		}
	})
	select {
	case <-all:
	default:
		t.Fatalf("only %d of %d calls started while the first were held: the loop waited for them", started.Load(), calls)
	}
	if st.Sent != calls || st.Senders != calls {
		t.Fatalf("sent %d on %d goroutines, want %d on %d", st.Sent, st.Senders, calls, calls)
	}
}

// TestOpenLoopReusesIdleGoroutines: calls that end long before the next arrival (2,000/s, a
// call of nothing) run on a handful of goroutines, not one each.
func TestOpenLoopReusesIdleGoroutines(t *testing.T) {
	p := Profile{Name: "reuse", Rate: 2000, Duration: 300 * time.Millisecond, Seed: 5}
	var fired atomic.Int64
	st := OpenLoop(t.Context(), p, func(context.Context, int, time.Time) { fired.Add(1) })
	if st.Err != nil || int64(st.Sent) != fired.Load() {
		t.Fatalf("stats %+v, %d fired", st, fired.Load())
	}
	if st.Senders < 1 || st.Senders > st.Sent/4 {
		t.Fatalf("%d calls ran on %d goroutines, want at most a quarter as many", st.Sent, st.Senders)
	}
	t.Logf("%d calls on %d goroutines", st.Sent, st.Senders)
}

// TestOpenLoopLetsABurstsGoroutinesGo: after a burst of held calls has started far more
// goroutines than maxIdleSenders, all but that many end while the run goes on.
func TestOpenLoopLetsABurstsGoroutinesGo(t *testing.T) {
	const burst = maxIdleSenders + 200
	release := make(chan struct{})
	var started atomic.Int64
	base := runtime.NumGoroutine()
	done := make(chan Stats)
	go func() {
		done <- OpenLoop(t.Context(), Profile{Name: "burst", Rate: 20000, Duration: 3 * time.Second, Seed: 7},
			func(_ context.Context, i int, _ time.Time) {
				if i < burst {
					started.Add(1)
					<-release
				}
			})
	}()
	if !within(2*time.Second, func() bool { return started.Load() >= burst }) {
		close(release)
		t.Fatalf("only %d of the burst's %d held calls started", started.Load(), burst)
	}
	close(release)
	// While the run still sends (its calls now end at once), the burst's goroutines drain away.
	within(2*time.Second, func() bool { return runtime.NumGoroutine()-base <= maxIdleSenders+50 })
	left := runtime.NumGoroutine() - base
	st := <-done
	if left > maxIdleSenders+50 {
		t.Fatalf("%d goroutines left after the burst of %d was let go, want at most about %d", left, burst, maxIdleSenders)
	}
	if st.Senders < burst {
		t.Fatalf("the burst of %d held calls ran on %d goroutines", burst, st.Senders)
	}
	t.Logf("burst of %d on %d goroutines, %d left after it", burst, st.Senders, left)
}

// within polls cond every millisecond until it holds (true) or d has passed (false).
func within(d time.Duration, cond func() bool) bool {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(d)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			return cond()
		}
	}
	return true
}
