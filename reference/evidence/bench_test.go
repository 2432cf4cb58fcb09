package evidence

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	arjs "github.com/aruntime/arcert/reference/jetstream"
)

// benchAppenders is how many goroutines append at once. A router serves many requests at a time
// and writes each request's record from that request's goroutine, so appends overlap; each one
// still waits for its own JetStream acknowledgement (or its own fsync) before it returns.
const benchAppenders = 128

// BenchmarkDurableAppend measures sustained durable throughput end to end, on file storage:
// Client.Append to the inbox, each acknowledged by JetStream before it returns, then the Service
// chaining every record into the chain stream. records/s counts from the first Append to the
// last record chained; appends/s only to the last Append returning. It runs twice: with
// nats-server's default file-store sync (in the background, every two minutes) and with
// sync_always (an fsync per write before the acknowledgement), so what "durable" costs is a
// figure. For the figures:
//
//	go test -run '^$' -bench DurableAppend -benchtime 50000x ./reference/evidence/
func BenchmarkDurableAppend(b *testing.B) {
	b.Run("sync=interval", func(b *testing.B) { benchDurableAppend(b) })
	b.Run("sync=always", func(b *testing.B) { benchDurableAppend(b, arjs.SyncAlways()) })
}

// benchDurableAppend is one BenchmarkDurableAppend run on a server started with options.
func benchDurableAppend(b *testing.B, options ...arjs.Option) {
	n := startNode(b, options...)
	js := n.connect("bench-client")
	if err := EnsureStreams(testCtx(b), js, 1); err != nil {
		b.Fatal(err)
	}
	svc, _ := runService(b, n.connect("bench-service"), ServiceOptions{})
	c := newClient(b, js, nil)
	runClient(b, c) // as in production: anything spooled under load is replayed, and counted
	ctx := testCtx(b)

	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchAppenders {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if _, err := c.Append(ctx, sample(fmt.Sprintf("bench-%d", i))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	appended := time.Since(start)
	eventually(b, "every record to be chained", func() bool { return chainLen(ctx, js) >= uint64(b.N) })
	elapsed := time.Since(start)
	b.StopTimer()

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(b.N)/appended.Seconds(), "appends/s")
	if st := c.Stats(); st.Spooled != 0 {
		b.Logf("%d of %d records went through the spool (a publish waited over %s)", st.Spooled, b.N, DefaultPublishTimeout)
	}
	if st := svc.Stats(); st.Duplicates != 0 {
		b.Errorf("service stats %+v: records were duplicated", st)
	}
}
