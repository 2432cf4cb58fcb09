package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/aruntime/arcert/api/discovery"
)

// Default ClientOptions.
const (
	// DefaultPublishTimeout bounds one publish before Append gives up on JetStream and spools.
	// It is well under the router's evidence timeout, so a spooled record is still reported
	// written in time.
	DefaultPublishTimeout = time.Second
	// DefaultReplayInterval is how often Run looks for a spool to drain when nothing has told it
	// to, which is how it notices JetStream coming back.
	DefaultReplayInterval = 250 * time.Millisecond
)

// ClientOptions configure a Client.
type ClientOptions struct {
	// SpoolPath is the file records are spooled to while JetStream is unreachable. Required; one
	// file per process, on a disk that survives the process (its directory is created).
	SpoolPath string
	// Logger receives spool, replay and corrupt-line reports; nil discards them.
	Logger *slog.Logger
	// PublishTimeout bounds one publish; zero means DefaultPublishTimeout.
	PublishTimeout time.Duration
	// ReplayInterval is Run's polling interval; zero means DefaultReplayInterval.
	ReplayInterval time.Duration
	// DropUnavailable makes a client that loses what JetStream cannot take now instead of
	// spooling it, while still reporting success. It exists only for the harness's negative
	// controls (evidence dropped during an outage), which certification must catch; nothing
	// else may set it.
	DropUnavailable bool
	// Replicas is how many servers keep each evidence stream, when replaying creates them
	// (durable.replicas; below 1 means 1). It must match the Service's.
	Replicas int
}

// Client is how routers and workers write and read durable evidence. It implements Sink and
// Reader, so the router uses it exactly as it uses Memory. Append hands a record to the inbox and
// returns once JetStream has acknowledged storing it (overlapping Appends share one inbox
// message), or, when JetStream is unreachable or slower than PublishTimeout, once the record is
// fsync'd to the local spool; Run replays the spool afterwards. Either way the record is durable
// when Append returns, and the Service chains it. Reads go to the chain stream. Run must be
// running for spooled records to reach JetStream.
type Client struct {
	js     jetstream.JetStream
	spool  *spool
	log    *slog.Logger
	pubTO  time.Duration
	replay time.Duration
	kick   chan struct{} // a record was spooled: Run should look soon
	batch  *batcher
	// replicas is the evidence streams' replica count, should replaying create them.
	replicas int

	chainMu sync.Mutex
	chain   jetstream.Stream // looked up on first read, since the stream may not exist at start

	published, spooled, replayed, corrupt atomic.Uint64
	dropUnavailable                       bool
}

var (
	_ Sink   = (*Client)(nil)
	_ Reader = (*Client)(nil)
)

// NewClient opens the spool (which may hold records from an earlier process: Run replays them)
// and returns a Client writing through js.
func NewClient(js jetstream.JetStream, o ClientOptions) (*Client, error) {
	if js == nil || o.SpoolPath == "" {
		return nil, fmt.Errorf("%w: a JetStream context and a spool path are required", ErrInvalidArgument)
	}
	sp, err := openSpool(o.SpoolPath)
	if err != nil {
		return nil, err
	}
	c := &Client{
		js: js, spool: sp, log: o.Logger,
		pubTO: cmp0(o.PublishTimeout, DefaultPublishTimeout), replay: cmp0(o.ReplayInterval, DefaultReplayInterval),
		kick: make(chan struct{}, 1), batch: &batcher{js: js, linger: batchLinger}, dropUnavailable: o.DropUnavailable, replicas: o.Replicas,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// cmp0 is v, or def when v is zero.
func cmp0(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// Append makes r durable and returns it with its chain fields cleared (Seq 0): the Service
// assigns them when it chains the record, shortly after or, for a spooled record, after replay.
// While records wait in the spool, new ones join them there, so one client's records are chained
// in the order it appended them. It fails only for an invalid record, a context already done,
// or a spool that cannot be written (a full or failing disk).
func (c *Client) Append(ctx context.Context, r discovery.Record) (discovery.Record, error) {
	if err := ctx.Err(); err != nil {
		return discovery.Record{}, err
	}
	r, err := unchained(r)
	if err != nil {
		return discovery.Record{}, err
	}
	body, err := json.Marshal(r)
	if err != nil {
		return discovery.Record{}, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	if len(body) > maxRecordBytes {
		return discovery.Record{}, fmt.Errorf("%w: request %q: %d bytes, at most %d", ErrInvalidRecord, r.RequestID, len(body), maxRecordBytes)
	}
	ctx, span, traceparent := startAppend(ctx, r)
	defer span.End()
	if c.spool.end() == 0 && c.js.Conn().IsConnected() {
		if err = c.batch.publish(ctx, body, r.RequestID, traceparent, c.pubTO); err == nil {
			c.published.Add(1)
			return r, nil
		}
		c.log.Warn("evidence: publish failed, spooling", "request_id", r.RequestID, "err", err)
	}
	if c.dropUnavailable {
		return r, nil // the negative control's loss: reported durable, never stored
	}
	// The publish may have been stored with its acknowledgement lost; the replayed copy is
	// marked as such, and the Service drops it if so.
	if err := c.spool.append(append(body, '\n')); err != nil {
		return discovery.Record{}, err
	}
	c.spooled.Add(1)
	select {
	case c.kick <- struct{}{}:
	default:
	}
	return r, nil
}

// ClientStats counts what a Client did, for metrics and for tests.
type ClientStats struct {
	Published uint64 // appended straight to the inbox
	Spooled   uint64 // appended to the spool
	Replayed  uint64 // spooled records since stored in the inbox
	Corrupt   uint64 // spool lines that were not records, moved to the .bad file
}

// Stats returns the counts so far.
func (c *Client) Stats() ClientStats {
	return ClientStats{
		Published: c.published.Load(), Spooled: c.spooled.Load(),
		Replayed: c.replayed.Load(), Corrupt: c.corrupt.Load(),
	}
}

// Close closes the spool. Call it after Run has returned; records spooled and not yet replayed
// stay in the file for the next Client on the same path.
func (c *Client) Close() error { return c.spool.close() }

// chainStream is the chain stream's handle, looked up once it exists.
func (c *Client) chainStream(ctx context.Context) (jetstream.Stream, error) {
	c.chainMu.Lock()
	defer c.chainMu.Unlock()
	if c.chain != nil {
		return c.chain, nil
	}
	st, err := c.js.Stream(ctx, ChainStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("%w: no evidence chained yet", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: chain stream: %w", err)
	}
	c.chain = st
	return st, nil
}

// ByRequestID returns the chained records of one request in chain order, or ErrNotFound (also
// for a record still waiting in the inbox or a spool: it has no place in the chain yet).
func (c *Client) ByRequestID(ctx context.Context, requestID string) ([]discovery.Record, error) {
	st, err := c.chainStream(ctx)
	if err != nil {
		return nil, err
	}
	recs, err := recordsOf(ctx, st, requestID)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: request %q", ErrNotFound, requestID)
	}
	return recs, nil
}

// recordsOf reads the records on one request's chain subject, each a direct get of the next
// message on that subject, so the cost is one round trip per record plus one.
func recordsOf(ctx context.Context, st jetstream.Stream, requestID string) ([]discovery.Record, error) {
	subj := chainSubject(requestID)
	var out []discovery.Record
	for seq := uint64(1); ; {
		m, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subj))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("evidence: read %s: %w", subj, err)
		}
		r, err := decodeRecord(m.Data)
		if err != nil {
			return nil, fmt.Errorf("evidence: stream seq %d: %w", m.Sequence, err)
		}
		out = append(out, r)
		seq = m.Sequence + 1
	}
}

// Since returns up to limit chained records with Seq greater than seq; see Reader. limit must be
// at least 1.
func (c *Client) Since(ctx context.Context, seq uint64, limit int) ([]discovery.Record, error) {
	if limit < 1 {
		return nil, fmt.Errorf("%w: limit %d, want at least 1", ErrInvalidArgument, limit)
	}
	var out []discovery.Record
	var bad error
	_, err := scanChain(ctx, c.js, seq+1, limit, func(at uint64, r discovery.Record, derr error) bool {
		if derr != nil {
			bad = fmt.Errorf("evidence: stream seq %d: %w", at, derr)
			return false
		}
		out = append(out, r)
		return true
	})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil // nothing chained yet
	}
	if err == nil {
		err = bad
	}
	return out, err
}
