package control

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Op is what a Change did.
type Op string

// The operations a watch reports.
const (
	// OpPut is a new revision of a document.
	OpPut Op = "put"
	// OpDelete is a revision that removed a document.
	OpDelete Op = "delete"
	// OpSynced says every document that existed when the watch began has been delivered, so a
	// watcher can act on a consistent whole rather than on the first document it sees.
	OpSynced Op = "synced"
)

// Change is one event of a watch. For OpSynced only Bucket is set.
type Change struct {
	Bucket   string
	Key      string
	Revision uint64
	Op       Op
	// Value is the document's JSON for OpPut; it was validated when it was stored.
	Value json.RawMessage
}

// rewatchInterval paces attempts to re-create a watch that JetStream ended (the server went away
// and the client's own recovery gave up), so a long outage costs a few requests a second.
const rewatchInterval = 250 * time.Millisecond

// Watch delivers the current document of every key in bucket, then OpSynced, then every change
// after, until ctx ends; the channel is closed after that. The watch outlives a restart of the
// JetStream server: when the connection reconnects, or the underlying watch ends, it is re-created
// from the revision after the last one delivered, so no change is skipped and none is delivered
// twice. Re-creating it on reconnect is what makes a worker see a change made just after a
// restart at once, rather than when the client's heartbeat check notices the old consumer is gone.
func (s *Store) Watch(ctx context.Context, bucket string) (<-chan Change, error) {
	kv, ok := s.kv[bucket]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownBucket, bucket)
	}
	p := &pump{bucket: bucket, kv: kv, nc: s.nc, out: make(chan Change)}
	var reconnected chan nats.Status
	if s.nc != nil {
		// Listening before the watch exists means no reconnect can fall between the two.
		reconnected = s.nc.StatusChanged(nats.CONNECTED)
		p.reconnected = reconnected
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		if reconnected != nil {
			s.nc.RemoveStatusListener(reconnected)
		}
		return nil, fmt.Errorf("control: watch %s: %w", bucket, err)
	}
	go func() {
		if reconnected != nil {
			defer s.nc.RemoveStatusListener(reconnected)
		}
		p.run(ctx, w)
	}()
	return p.out, nil
}

// pump forwards one bucket's JetStream watch to a Change channel, re-creating the watch when it
// ends while ctx is still live.
type pump struct {
	bucket string
	kv     jetstream.KeyValue
	nc     *nats.Conn
	out    chan Change
	// reconnected reports the connection coming back; nil when the store has no connection.
	reconnected <-chan nats.Status
	last        uint64 // the last revision delivered
	synced      bool
}

func (p *pump) run(ctx context.Context, w jetstream.KeyWatcher) {
	defer close(p.out)
	for w != nil {
		p.forward(ctx, w)
		w = p.rewatch(ctx)
	}
}

// forward delivers w's updates until ctx ends, w does, or the connection comes back from an
// outage. Then it stops w and drains it: the client blocks its delivery on the updates channel, so
// only a drained watcher is really gone. What the drain discards was not delivered, so the next
// watch, which starts after the last delivered revision, brings it again.
func (p *pump) forward(ctx context.Context, w jetstream.KeyWatcher) {
	stop := func() {
		_ = w.Stop() // an error means the subscription is already gone, which is what we want
		for range w.Updates() {
		}
	}
	for {
		var e jetstream.KeyValueEntry
		var ok bool
		select {
		case <-ctx.Done():
			stop()
			return
		case <-p.reconnected:
			stop()
			return
		case e, ok = <-w.Updates():
			if !ok {
				return
			}
		}
		c, deliver := p.change(e)
		if !deliver {
			continue
		}
		select {
		case p.out <- c:
		case <-ctx.Done():
			stop()
			return
		}
	}
}

// change turns a JetStream update into a Change; deliver is false for what the watcher must not
// see twice (a second synced marker after a re-created watch, a revision already delivered).
func (p *pump) change(e jetstream.KeyValueEntry) (c Change, deliver bool) {
	if e == nil {
		if p.synced {
			return Change{}, false
		}
		p.synced = true
		return Change{Bucket: p.bucket, Op: OpSynced}, true
	}
	if e.Revision() <= p.last {
		return Change{}, false
	}
	p.last = e.Revision()
	c = Change{Bucket: p.bucket, Key: e.Key(), Revision: e.Revision(), Op: OpPut}
	if e.Operation() == jetstream.KeyValuePut {
		c.Value = json.RawMessage(e.Value())
	} else {
		c.Op = OpDelete
	}
	return c, true
}

// rewatch re-creates the watch after the last delivered revision, retrying until it succeeds or
// ctx ends (nil). A connection its owner closed never comes back, so then it only waits for ctx.
func (p *pump) rewatch(ctx context.Context) jetstream.KeyWatcher {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if p.nc != nil && p.nc.IsClosed() {
			<-ctx.Done()
			return nil
		}
		var w jetstream.KeyWatcher
		var err error
		if p.last == 0 {
			w, err = p.kv.WatchAll(ctx)
		} else {
			w, err = p.kv.WatchAll(ctx, jetstream.IncludeHistory(), jetstream.ResumeFromRevision(p.last+1))
		}
		if err == nil {
			return w
		}
		t.Reset(rewatchInterval)
	}
}
