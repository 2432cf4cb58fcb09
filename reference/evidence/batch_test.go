package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// heldJS is a JetStream whose asynchronous publishes are acknowledged only when the test says
// so, to put the batcher in states a live server passes through too quickly to test.
type heldJS struct {
	jetstream.JetStream // only PublishMsgAsync is used

	mu   sync.Mutex
	sent []*nats.Msg
	acks []chan *jetstream.PubAck
}

func (h *heldJS) PublishMsgAsync(m *nats.Msg, _ ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ok := make(chan *jetstream.PubAck, 1)
	h.sent, h.acks = append(h.sent, m), append(h.acks, ok)
	return heldFuture{ok: ok, msg: m}, nil
}

// ackAll acknowledges every message sent so far.
func (h *heldJS) ackAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.acks {
		select {
		case a <- &jetstream.PubAck{}:
		default:
		}
	}
}

func (h *heldJS) sentCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sent)
}

type heldFuture struct {
	ok  chan *jetstream.PubAck
	msg *nats.Msg
}

func (f heldFuture) Ok() <-chan *jetstream.PubAck { return f.ok }
func (f heldFuture) Err() <-chan error            { return nil }
func (f heldFuture) Msg() *nats.Msg               { return f.msg }

// Appends overlapping a batch in flight leave together in one message, and every waiter of a
// batch learns its outcome (a future answers only once).
func TestBatcherGroupsOverlappingAppends(t *testing.T) {
	h := &heldJS{}
	b := &batcher{js: h}
	const n = batchMaxInflight + 20
	errs := make(chan error, n)
	for i := range batchMaxInflight { // fill the pipe with batches of one
		go func() { errs <- b.publish(t.Context(), fmt.Appendf(nil, "first-%d", i), "", "", testTimeout) }()
		eventually(t, "a batch to be sent", func() bool { return h.sentCount() == i+1 })
	}
	for i := range n - batchMaxInflight {
		go func() { errs <- b.publish(t.Context(), fmt.Appendf(nil, "queued-%d", i), "", "", testTimeout) }()
	}
	eventually(t, "the rest to queue", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.queue) == n-batchMaxInflight
	})
	h.ackAll()
	eventually(t, "the queued records to leave as one batch", func() bool { return h.sentCount() == batchMaxInflight+1 })
	h.ackAll()
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	last := h.sent[batchMaxInflight]
	if got := bytes.Count(last.Data, []byte("queued-")); got != n-batchMaxInflight {
		t.Errorf("last batch holds %d records, want %d", got, n-batchMaxInflight)
	}
}

// A record whose Append gave up while still queued is never sent afterwards: it is spooled
// instead, and sending it too would chain it twice.
func TestBatcherNeverSendsAbandonedRecords(t *testing.T) {
	h := &heldJS{}
	b := &batcher{js: h}
	done := make(chan error, batchMaxInflight)
	for i := range batchMaxInflight {
		go func() { done <- b.publish(t.Context(), fmt.Appendf(nil, "held-%d", i), "", "", testTimeout) }()
		eventually(t, "a batch to be sent", func() bool { return h.sentCount() == i+1 })
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := b.publish(ctx, []byte("abandoned"), "", "", testTimeout); !errors.Is(err, ErrAbandoned) {
		t.Fatalf("publish with the pipe full = %v, want ErrAbandoned", err)
	}
	h.ackAll()
	for range batchMaxInflight {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := b.publish(t.Context(), []byte("after"), "", "", 50*time.Millisecond); !errors.Is(err, ErrAbandoned) {
		t.Fatalf("unacknowledged publish = %v, want ErrAbandoned", err)
	}
	for _, m := range h.sent {
		if bytes.Contains(m.Data, []byte("abandoned")) {
			t.Fatalf("the abandoned record was sent in %q", m.Data)
		}
	}
}

// With a linger, one caller appending in turn is never held (a lone record with nothing in
// flight leaves at once), while records that overlap a batch in flight wait, though the pipe has
// room: until the linger has passed since it left if it stays unacknowledged, then together.
func TestBatcherLingersOnlyWhileRecordsOverlap(t *testing.T) {
	h := &heldJS{}
	const linger = 300 * time.Millisecond
	b := &batcher{js: h, linger: linger}
	for i := range 3 { // in turn: each acknowledged before the next is appended
		done := make(chan error, 1)
		go func() { done <- b.publish(t.Context(), fmt.Appendf(nil, "alone-%d", i), "", "", testTimeout) }()
		eventually(t, "a lone record to be sent at once", func() bool { return h.sentCount() == i+1 })
		h.ackAll()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}

	errs := make(chan error, 3)
	go func() { errs <- b.publish(t.Context(), []byte("first"), "", "", testTimeout) }()
	eventually(t, "the first record to be sent", func() bool { return h.sentCount() == 4 })
	b.mu.Lock()
	sentFirst := b.lastSent
	b.mu.Unlock()
	for _, body := range []string{"second", "third"} {
		go func() { errs <- b.publish(t.Context(), []byte(body), "", "", testTimeout) }()
	}
	eventually(t, "the overlapping records to queue", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.queue) == 2
	})
	if n, since := h.sentCount(), time.Since(sentFirst); n != 4 && since < linger {
		t.Fatalf("%d batches sent %s after the first, within the linger, want 4", n, since)
	}
	// The first stays unacknowledged: the held records leave once the linger has passed.
	eventually(t, "the held records to leave after the linger", func() bool { return h.sentCount() == 5 })
	if waited := time.Since(sentFirst); waited < linger {
		t.Errorf("held records left %s after the first, want at least the linger, %s", waited, linger)
	}
	h.ackAll()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	h.mu.Lock()
	last := h.sent[4].Data
	h.mu.Unlock()
	if !bytes.Contains(last, []byte("second")) || !bytes.Contains(last, []byte("third")) {
		t.Errorf("last batch %q, want both held records in one message", last)
	}

	// Records queued behind a batch leave as soon as it is acknowledged, not at the linger.
	go func() { errs <- b.publish(t.Context(), []byte("fourth"), "", "", testTimeout) }()
	eventually(t, "the fourth record to be sent", func() bool { return h.sentCount() == 6 })
	go func() { errs <- b.publish(t.Context(), []byte("fifth"), "", "", testTimeout) }()
	eventually(t, "the fifth record to queue", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.queue) == 1
	})
	h.ackAll()
	start := time.Now()
	eventually(t, "the fifth record to leave on the acknowledgement", func() bool { return h.sentCount() == 7 })
	if took := time.Since(start); took > linger/2 {
		t.Errorf("the queued record left %s after the acknowledgement, want at once", took)
	}
	h.ackAll()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
