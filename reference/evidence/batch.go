package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/aruntime/arcert/api/discovery"
)

// An inbox message carries one or more records, one JSON record per line. Appends that overlap
// share a message (group commit): each still returns only once JetStream has acknowledged the
// message holding its record, but the inbox stores, delivers, acknowledges and removes one
// message per batch instead of one per record, which is what lets a two-core machine sustain
// well over 20,000 durable records a second. At low load a batch is a single record sent at once,
// so batching adds no latency.
//
// Under moderate load, overlapping Appends are rare (an acknowledgement takes a few milliseconds)
// and nearly every record went alone: against the Compose deployment at 480 requests/s the inbox
// carried 1.04 records a message, and the three NATS nodes, storing, replicating, delivering and
// acknowledging each message, used more CPU than any other part. So while a batch is in flight,
// what arrives waits for its acknowledgement, or until batchLinger has passed since it left,
// before leaving together (a full batch leaves at once). With nothing in flight records leave at
// once: one caller writing in turn is never held, and writers that each wait for their own
// acknowledgement (128 in the benchmark) are not held to one batch per linger.
// The router writes a request's record after its response went out, so the wait delays when the
// record is stored, by at most batchLinger, not the answer; a synchronous caller (a batch job,
// recorded before its result is stored) waits that much longer.
const (
	// batchMaxRecords and batchMaxBytes bound one inbox message, well under NATS's 1 MiB default
	// maximum payload.
	batchMaxRecords = 256
	batchMaxBytes   = 512 << 10
	// batchMaxInflight is how many batches may await acknowledgement at once. Appends arriving
	// meanwhile queue and leave together in the next batch.
	batchMaxInflight = 4
	// batchLinger is the least time between one batch and the next while records overlap.
	batchLinger = 20 * time.Millisecond
)

// ErrAbandoned means an Append stopped waiting for JetStream (timeout or cancellation); its
// record goes to the spool instead.
var ErrAbandoned = errors.New("evidence: publish abandoned")

// waiter is one Append waiting for its batch.
type waiter struct {
	body  []byte
	id    string // the record's request id and traceparent, for the inbox message's trace header
	trace string
	state int           // queued, sent or abandoned; guarded by batcher.mu
	sent  chan struct{} // closed once batch is set
	batch *sentBatch
	owner bool // the first waiter of its batch accounts for the batch being in flight
}

// sentBatch is one inbox message in flight. A publish future answers once, so whichever of its
// waiters receives the answer records it here for the others.
type sentBatch struct {
	ack  jetstream.PubAckFuture // nil if the publish failed at once
	once sync.Once
	done chan struct{} // closed once err is final
	err  error
}

func (sb *sentBatch) resolve(err error) {
	sb.once.Do(func() {
		sb.err = err
		close(sb.done)
	})
}

// wait returns the batch's outcome, or ErrAbandoned when ctx is done first.
func (sb *sentBatch) wait(ctx context.Context) error {
	select {
	case <-sb.done:
		return sb.err
	default:
	}
	select {
	case <-sb.done:
		return sb.err
	case <-sb.ack.Ok():
		sb.resolve(nil)
	case err := <-sb.ack.Err():
		sb.resolve(err)
	case <-ctx.Done():
		return ErrAbandoned
	}
	return sb.err
}

const (
	queued = iota
	sent
	abandoned
)

// batcher groups concurrent Appends into inbox messages without a goroutine of its own: the
// Append that finds nobody sending sends, the first waiter of each batch, once its batch is
// acknowledged, sends whatever queued meanwhile, and the linger's timer sends what it held.
type batcher struct {
	js jetstream.JetStream
	// linger is the least time between batches while records overlap (batchLinger; 0 sends
	// whenever the pipe has room).
	linger time.Duration

	mu       sync.Mutex
	queue    []*waiter
	inflight int
	sending  bool
	lastSent time.Time   // when the last batch left
	timer    *time.Timer // pumps once the linger has passed; nil when none is set
}

// publish sends body in the next batch and returns once JetStream has stored it, or an error
// (ErrAbandoned on timeout or cancellation) after which the record is certainly not sent later
// by this batcher, though an earlier send may have been stored with its acknowledgement lost.
func (b *batcher) publish(ctx context.Context, body []byte, id, traceparent string, timeout time.Duration) error {
	w := &waiter{body: body, id: id, trace: traceparent, sent: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, w)
	b.mu.Unlock()
	b.pump()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case <-w.sent:
	case <-ctx.Done():
	}
	b.mu.Lock()
	if w.state == queued {
		w.state = abandoned // pump skips it, so it cannot be stored after being spooled
		b.mu.Unlock()
		return ErrAbandoned
	}
	b.mu.Unlock()
	<-w.sent // closed right after the state changed to sent
	if w.owner {
		defer b.done()
	}
	return w.batch.wait(ctx)
}

// done ends a batch's time in flight and sends what queued meanwhile.
func (b *batcher) done() {
	b.mu.Lock()
	b.inflight--
	b.mu.Unlock()
	b.pump()
}

// pump sends queued records while fewer than batchMaxInflight batches are in flight. Only one
// caller sends at a time, so one client's batches leave in the order their records queued.
func (b *batcher) pump() {
	b.mu.Lock()
	if b.sending {
		b.mu.Unlock()
		return
	}
	b.sending = true
	for {
		take := b.cut()
		if len(take) == 0 {
			b.sending = false
			b.mu.Unlock()
			return
		}
		b.inflight++
		b.lastSent = time.Now()
		b.mu.Unlock()
		bodies := make([][]byte, len(take))
		var ids, traces []string
		for i, w := range take {
			bodies[i] = w.body
			if w.trace != "" {
				ids, traces = append(ids, w.id), append(traces, w.trace)
			}
		}
		sb := &sentBatch{done: make(chan struct{})}
		msg := inboxMsg(bodies, false)
		setTraces(msg, ids, traces)
		ack, err := b.js.PublishMsgAsync(msg)
		if err != nil {
			sb.resolve(err)
		} else {
			sb.ack = ack
		}
		for i, w := range take {
			w.batch, w.owner = sb, i == 0
			close(w.sent)
		}
		b.mu.Lock()
	}
}

// cut takes the next batch off the queue, marking it sent; nil when nothing may be sent now.
// The caller holds mu.
func (b *batcher) cut() []*waiter {
	if b.inflight >= batchMaxInflight || b.lingering() {
		return nil
	}
	var take []*waiter
	size, i := 0, 0
	for ; i < len(b.queue) && len(take) < batchMaxRecords; i++ {
		w := b.queue[i]
		if w.state == abandoned {
			continue
		}
		if len(take) > 0 && size+len(w.body)+1 > batchMaxBytes {
			break
		}
		w.state = sent
		take = append(take, w)
		size += len(w.body) + 1
	}
	b.queue = b.queue[i:]
	if len(b.queue) == 0 {
		b.queue = nil // let the backing array go
	}
	return take
}

// lingering reports whether the queue waits for the linger to pass, setting the timer that pumps
// it then. Records wait only while a batch is in flight (its acknowledgement pumps them); with
// nothing in flight, a full batch, or an empty queue, they leave at once.
// The caller holds mu.
func (b *batcher) lingering() bool {
	if b.linger <= 0 {
		return false
	}
	live, size := 0, 0
	for _, w := range b.queue {
		if w.state != abandoned {
			live, size = live+1, size+len(w.body)+1
		}
	}
	if live == 0 || live >= batchMaxRecords || size >= batchMaxBytes || b.inflight == 0 {
		return false
	}
	wait := b.linger - time.Since(b.lastSent)
	if wait <= 0 {
		return false
	}
	if b.timer == nil {
		b.timer = time.AfterFunc(wait, func() {
			b.mu.Lock()
			b.timer = nil
			b.mu.Unlock()
			b.pump()
		})
	}
	return true
}

// inboxMsg is one inbox message holding bodies (JSON records), de-duplicated by a digest of its
// contents, so the same batch sent twice is stored once. replay marks a batch from a spool.
func inboxMsg(bodies [][]byte, replay bool) *nats.Msg {
	m := nats.NewMsg(InboxSubject)
	m.Data = bytes.Join(bodies, []byte{'\n'})
	sum := sha256.Sum256(m.Data)
	m.Header.Set(jetstream.MsgIDHeader, hashPrefix+hex.EncodeToString(sum[:]))
	if replay {
		m.Header.Set(replayHeader, "1")
	}
	return m
}

// decodeBatch splits an inbox message into its records; lines that are not valid records are
// returned as errors naming the line, for the Service to report.
func decodeBatch(data []byte) ([]discovery.Record, []error) {
	var recs []discovery.Record
	var bad []error
	for i, line := range bytes.Split(data, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		r, err := decodeRecord(line)
		if err == nil {
			r, err = unchained(r)
		}
		if err != nil {
			bad = append(bad, fmt.Errorf("line %d: %w", i+1, err))
			continue
		}
		recs = append(recs, r)
	}
	return recs, bad
}
