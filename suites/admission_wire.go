package suites

import (
	"context"
	"net/http/httptrace"
	"sync"
	"time"

	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/traffic"
	"github.com/aruntime/arcert/conformance/checks"
)

// What ADM-1 counts as admitted work in flight, seen from the client. The runtime's own window
// for a request (taken into a queue or a slot, until it let go of it) lies inside the client's
// [sent, answered], but the client's window also holds time that is not the runtime's: dialling
// and waiting for a pooled connection before the request leaves, and, after the answer left the
// runtime, the time until the client's goroutine gets to read it. On a host shared with the
// runtime under 4x overload those add up, and a slow client path read as a deep queue is a false
// FAIL. So a request counts from the moment its last byte was written to the connection (the
// runtime can have it from then), not from when the harness decided to send it; and, when it was
// admitted and answered whole (not streamed), until the first byte of its answer arrived: a plain
// completion is answered when its work is done. A streamed answer counts until its last byte, as
// the runtime is still working while it streams. A plain answer whose body came well after its
// first byte also counts until its last byte: that runtime sent its headers before the work was
// done. A request refused (shed, rejected) or that reached no outcome never counts.

// lateBody is how long after its first byte a plain answer's last byte may come and the answer
// still count as sent whole: longer, and the runtime was still working after its headers.
const lateBody = 20 * time.Millisecond

// wireTimes are when a request's last byte went out and its answer's first byte came back.
type wireTimes struct {
	wrote, firstByte time.Time
}

// tracedOpenLoop is openLoop that also records, for every request by its Seq, its wire times
// (kept apart so the untraced load runs pay no trace hooks).
func tracedOpenLoop(ctx context.Context, name string, seed int64, rate float64, d time.Duration, pick func(i int) request) (*loadRun, map[int]wireTimes) {
	var (
		l       chaosledger.Ledger
		picking sync.Mutex
		mu      sync.Mutex
		wire    = map[int]wireTimes{}
	)
	stats := traffic.OpenLoop(ctx, traffic.Profile{Name: name, Rate: rate, Duration: d, Seed: seed},
		func(ctx context.Context, i int, scheduled time.Time) {
			picking.Lock()
			rq := pick(i)
			picking.Unlock()
			var w wireTimes
			var wmu sync.Mutex // the trace hooks run on the transport's goroutines
			// The driver's own trace is added after this one; httptrace calls both.
			tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
				WroteRequest:         func(httptrace.WroteRequestInfo) { wmu.Lock(); w.wrote = time.Now(); wmu.Unlock() },
				GotFirstResponseByte: func() { wmu.Lock(); w.firstByte = time.Now(); wmu.Unlock() },
			})
			e := sendLoad(tctx, i, scheduled, rq)
			l.Record(e)
			wmu.Lock()
			mu.Lock()
			wire[e.Seq] = w
			mu.Unlock()
			wmu.Unlock()
		})
	return &loadRun{entries: l.Entries(), stats: stats}, wire
}

// timed reports whether an entry's clock readings make sense: a start, and an end not before it.
// An entry without them (a request that failed before it was sent) cannot be placed in time.
func timed(e chaosledger.Entry) bool {
	return !e.Start.IsZero() && !e.End.Before(e.Start)
}

// admittedWindow is the client's window of an admitted request, as the comment above defines it,
// and whether the entry could be placed in time at all.
func admittedWindow(e chaosledger.Entry, w wireTimes) (checks.Interval, bool) {
	if !timed(e) {
		return checks.Interval{}, false
	}
	iv := checks.Interval{Start: e.Start, End: e.End}
	if !w.wrote.IsZero() && !w.wrote.Before(e.Start) && !w.wrote.After(e.End) {
		iv.Start = w.wrote
	}
	whole := e.Path != viaHTTPStream && !w.firstByte.IsZero() && e.End.Sub(w.firstByte) <= lateBody
	if whole && !w.firstByte.Before(iv.Start) {
		iv.End = w.firstByte
	}
	return iv, true
}

// admittedWindows are the windows of the admitted entries, and how many could not be placed.
func admittedWindows(admitted []chaosledger.Entry, wire map[int]wireTimes) (out []checks.Interval, untimed int) {
	for _, e := range admitted {
		iv, ok := admittedWindow(e, wire[e.Seq])
		if !ok {
			untimed++
			continue
		}
		out = append(out, iv)
	}
	return out, untimed
}

// sendWindowPeak is the old reading, from the moment the harness handed a request to its
// transport until the answer's last byte, for the evidence line: the difference between the two
// peaks is the client's own path.
func sendWindowPeak(admitted []chaosledger.Entry) int {
	var ivs []checks.Interval
	for _, e := range admitted {
		if timed(e) {
			ivs = append(ivs, checks.Interval{Start: e.Start, End: e.End})
		}
	}
	return checks.MaxOverlap(ivs)
}

// asWindows are the admitted entries placeable in time, each spanning its admitted window, so the
// plot draws what ADM-1 counted.
func asWindows(admitted []chaosledger.Entry, wire map[int]wireTimes) []chaosledger.Entry {
	out := make([]chaosledger.Entry, 0, len(admitted))
	for _, e := range admitted {
		if iv, ok := admittedWindow(e, wire[e.Seq]); ok {
			e.Start, e.End = iv.Start, iv.End
			out = append(out, e)
		}
	}
	return out
}
