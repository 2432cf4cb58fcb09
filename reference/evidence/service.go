package evidence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Default ServiceOptions and the Service's fixed timings.
const (
	// DefaultServiceBatch is how many inbox messages (each a batch of records) the Service takes
	// per round, also bounded by roundMaxBytes: enough that the per-round costs (a pull request,
	// the final acknowledgement's round trip) vanish at full load.
	DefaultServiceBatch = 1000
	// DefaultFetchWait is how long a round waits for its batch to fill. A record is chained the
	// moment it arrives; only the inbox acknowledgement waits for the round to end.
	DefaultFetchWait = time.Second
	// DefaultRetryInterval is the pause before the Service starts over after a failure, such as
	// JetStream being unreachable or another writer having extended the chain.
	DefaultRetryInterval = time.Second
	// DefaultConsumer is the durable inbox consumer's name. Services sharing it share the inbox.
	DefaultConsumer = "evidence-chain"

	// settleTimeout bounds waiting for one round's chain acknowledgements.
	settleTimeout = 10 * time.Second
	// inboxAckWait is how long the inbox waits for the Service's acknowledgement before it
	// redelivers; longer than a round can take (DefaultFetchWait plus settleTimeout), so a
	// record is redelivered only when the Service that had it is gone.
	inboxAckWait = 30 * time.Second
)

// ServiceOptions configure a Service. Zero values take the defaults.
type ServiceOptions struct {
	// Logger receives restarts, refused inbox lines and a broken tail; nil discards them.
	Logger *slog.Logger
	// Batch is the most inbox messages per round (DefaultServiceBatch).
	Batch int
	// FetchWait is how long a round waits to fill (DefaultFetchWait).
	FetchWait time.Duration
	// RetryInterval is the pause before starting over after a failure (DefaultRetryInterval).
	RetryInterval time.Duration
	// Consumer names the durable inbox consumer (DefaultConsumer).
	Consumer string
	// LinkToMessageStart is a deliberate bug for the harness's negative controls only: every
	// record of one inbox message is linked to the tail before the message instead of to the
	// record before it, which a chain of one record per message never shows.
	LinkToMessageStart bool
	// Replicas is how many servers keep each evidence stream (durable.replicas; below 1 means 1).
	Replicas int
}

// Service is the evidence role (`aruntime evidence`, also run inside `aruntime up`): the chain's
// single writer. It takes records from the inbox in order, gives each its Seq, PrevHash and Hash,
// and appends it to the chain stream under a compare-and-set on the stream's last sequence, so a
// second writer, a stray publish or a stale restart can never fork the chain: its write fails and
// it starts over from the chain's real tail, which it checks first and refuses to extend if it
// does not verify (see Run). A record's stream sequence is therefore its Seq.
//
// An inbox message is acknowledged only after the chain writes of all its records are, so a
// crash loses nothing; what it can do is deliver records again that are already chained. Such a
// message comes back marked as redelivered, as does one a client replays from its spool, and for
// those (and only those, so the common path costs no read) the Service looks on each record's
// chain subject for the same record (same recordID) before chaining it. A copy arriving as a
// first delivery (a caller appending the same record twice) is caught by the ids of the last
// recentRecords records chained. So a record is chained once.
type Service struct {
	js       jetstream.JetStream
	log      *slog.Logger
	batch    int
	wait     time.Duration
	retry    time.Duration
	consumer string
	replicas int

	lastSeq  uint64 // the chain's tail, owned by Run
	lastHash string
	recent   recentIDs // ids of the records chained last, owned by Run

	chained, duplicates, refused atomic.Uint64

	linkToMessageStart bool
}

// NewService returns a Service writing through js. It touches nothing until Run.
func NewService(js jetstream.JetStream, o ServiceOptions) (*Service, error) {
	if js == nil {
		return nil, fmt.Errorf("%w: a JetStream context is required", ErrInvalidArgument)
	}
	if o.Batch < 0 {
		return nil, fmt.Errorf("%w: batch %d", ErrInvalidArgument, o.Batch)
	}
	s := &Service{
		js: js, log: o.Logger, batch: o.Batch, consumer: o.Consumer, replicas: o.Replicas, linkToMessageStart: o.LinkToMessageStart,
		wait: cmp0(o.FetchWait, DefaultFetchWait), retry: cmp0(o.RetryInterval, DefaultRetryInterval),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.batch == 0 {
		s.batch = DefaultServiceBatch
	}
	if s.consumer == "" {
		s.consumer = DefaultConsumer
	}
	return s, nil
}

// Run chains records until ctx is done, then returns nil. It starts over after any failure
// (JetStream unreachable, a lost compare-and-set) and returns only for ErrBrokenChain: a chain
// whose last record does not verify is not extended, because linking to it would vouch for it.
// Run must not be called twice at once on one Service; separate Services may share the inbox.
func (s *Service) Run(ctx context.Context) error {
	for {
		err := s.runOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrBrokenChain):
			s.log.Error("evidence service: chain tail does not verify; not extending it", "err", err)
			return err
		}
		s.log.Warn("evidence service: starting over", "err", err, "after", s.retry)
		t := time.NewTimer(s.retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// runOnce sets up, finds the chain's tail and chains rounds until something fails.
func (s *Service) runOnce(ctx context.Context) error {
	if err := EnsureStreams(ctx, s.js, s.replicas); err != nil {
		return err
	}
	cons, err := s.js.CreateOrUpdateConsumer(ctx, InboxStream, jetstream.ConsumerConfig{
		Durable:       s.consumer,
		Description:   "the evidence service: chains inbox records",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		// Explicit acks, as a work queue requires: a record leaves the inbox only when it is
		// chained, and each is acknowledged once its own chain write is.
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       inboxAckWait,
		MaxAckPending: 2 * s.batch,
	})
	if err != nil {
		return fmt.Errorf("evidence service: inbox consumer: %w", err)
	}
	chain, err := s.js.Stream(ctx, ChainStream)
	if err != nil {
		return fmt.Errorf("evidence service: %w", err)
	}
	s.recent.clear()
	if err := s.resume(ctx, chain); err != nil {
		return err
	}
	s.log.Info("evidence service: chaining", "after_seq", s.lastSeq)
	for ctx.Err() == nil {
		if err := s.round(ctx, cons, chain); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// resume reads the chain's last record, checks it, and continues from it.
func (s *Service) resume(ctx context.Context, chain jetstream.Stream) error {
	info, err := chain.Info(ctx)
	if err != nil {
		return fmt.Errorf("evidence service: %w", err)
	}
	last := info.State.LastSeq
	if last == 0 {
		s.lastSeq, s.lastHash = 0, GenesisHash
		return nil
	}
	m, err := chain.GetMsg(ctx, last)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("%w: the chain's last message, stream seq %d, is missing", ErrBrokenChain, last)
	}
	if err != nil {
		return fmt.Errorf("evidence service: read chain tail: %w", err)
	}
	r, err := decodeRecord(m.Data)
	switch {
	case err != nil:
		return fmt.Errorf("%w: stream seq %d is not a record: %w", ErrBrokenChain, last, err)
	case r.Seq != last:
		return fmt.Errorf("%w: stream seq %d holds record seq %d", ErrBrokenChain, last, r.Seq)
	case Hash(r) != r.Hash:
		return fmt.Errorf("%w: seq %d: hash does not match its fields", ErrBrokenChain, last)
	}
	s.lastSeq, s.lastHash = r.Seq, r.Hash
	return nil
}

// ServiceStats counts what a Service did, for metrics and for tests.
type ServiceStats struct {
	Chained    uint64 // records appended to the chain
	Duplicates uint64 // copies of chained records dropped
	Refused    uint64 // inbox messages that were not valid records, terminated and logged
}

// Stats returns the counts so far.
func (s *Service) Stats() ServiceStats {
	return ServiceStats{Chained: s.chained.Load(), Duplicates: s.duplicates.Load(), Refused: s.refused.Load()}
}
