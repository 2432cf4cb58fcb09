package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
)

// A round is one fetch from the inbox: each record is chained and its chain write sent as it
// arrives, without waiting for the previous write's acknowledgement. That is safe because every
// write carries the sequence it expects to follow: JetStream stores a connection's messages in
// order, so the writes land in order or, from the first one that fails, not at all.

// Bounds of one round.
const (
	// roundMaxBytes bounds the inbox bytes one round fetches (a few thousand records), so a
	// round is acknowledged well within inboxAckWait however full the inbox messages are.
	roundMaxBytes = 4 << 20
	// maxPipelined bounds the chain writes awaiting acknowledgement, well under the JetStream
	// context's limit on pending asynchronous publishes (4,000 by default), past which a
	// publish would stall.
	maxPipelined = 1024
)

// taken is one inbox message of a round.
type taken struct {
	msg       jetstream.Msg
	lastWrite int  // index in roundState.writes of its last record's write; -1 if it has none
	refused   bool // no valid record at all; terminated, not acknowledged
}

// roundState is what one round has taken so far.
type roundState struct {
	taken     []taken
	writes    []jetstream.PubAckFuture // the round's chain writes, in order
	confirmed int                      // writes[:confirmed] are acknowledged
	err       error                    // the first failure; later messages go back to the inbox
}

// round chains one fetch from the inbox and acknowledges it.
func (s *Service) round(ctx context.Context, cons jetstream.Consumer, chain jetstream.Stream) error {
	fctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	batch, err := cons.Fetch(s.batch, jetstream.FetchContext(fctx), jetstream.FetchMaxBytes(roundMaxBytes))
	if err != nil {
		return fmt.Errorf("evidence service: fetch: %w", err)
	}
	var st roundState
	for m := range batch.Messages() {
		if st.err != nil {
			_ = m.Nak() // best effort; otherwise it comes back after inboxAckWait
			continue
		}
		if st.err = s.take(ctx, chain, &st, m); st.err != nil {
			_ = m.Nak() // not taken; settle returns the taken ones
			continue
		}
		st.err = s.confirm(&st, maxPipelined)
	}
	err = batch.Error()
	if err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		st.err = errors.Join(st.err, fmt.Errorf("evidence service: fetch: %w", err))
	}
	if st.err == nil {
		st.err = s.confirm(&st, 0)
	}
	// Settle even when ctx is done, so a clean stop acknowledges what it chained.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer scancel()
	err = errors.Join(st.err, s.settle(sctx, &st))
	if err != nil {
		s.recent.clear() // it may name records whose writes failed; they must chain when redelivered
	}
	return err
}

// confirm waits for the oldest chain writes until at most keep are unacknowledged. It waits even
// when the Service is stopping, so a clean stop acknowledges what it chained, but no more than
// settleTimeout for any one write.
func (s *Service) confirm(st *roundState, keep int) error {
	for len(st.writes)-st.confirmed > keep {
		if err := awaitWrite(st.writes[st.confirmed]); err != nil {
			return fmt.Errorf("evidence service: chain seq %d: %w", s.lastSeq-uint64(len(st.writes)-st.confirmed)+1, err)
		}
		st.confirmed++
		s.chained.Add(1)
	}
	return nil
}

// errUnacknowledged means a chain write got no answer within settleTimeout; it may yet be
// stored, which the compare-and-set of the next write and the duplicate check both allow for.
var errUnacknowledged = errors.New("write unacknowledged")

// awaitWrite returns a chain write's outcome, arming a timer only when it is not in yet.
func awaitWrite(w jetstream.PubAckFuture) error {
	select {
	case <-w.Ok():
		return nil
	case err := <-w.Err():
		return err
	default:
	}
	t := time.NewTimer(settleTimeout)
	defer t.Stop()
	select {
	case <-w.Ok():
		return nil
	case err := <-w.Err():
		return err
	case <-t.C:
		return fmt.Errorf("%w after %s", errUnacknowledged, settleTimeout)
	}
}

// take chains the records of one inbox message, dropping copies of chained records and
// refusing lines that are not records.
func (s *Service) take(ctx context.Context, chain jetstream.Stream, st *roundState, m jetstream.Msg) error {
	recs, bad := decodeBatch(m.Data())
	for _, err := range bad {
		// Nothing can chain it, and redelivering it would not help; the log names it.
		s.refused.Add(1)
		s.log.Error("evidence service: inbox line is not a record; refused", "err", err)
	}
	if len(recs) == 0 {
		st.taken = append(st.taken, taken{msg: m, refused: true})
		return m.TermWithReason("not an evidence record") // also published as an advisory
	}
	t := taken{msg: m, lastWrite: -1}
	check := mayBeChained(m)
	messageStart := s.lastHash
	traces := recordTraces(m.Headers())
	for _, r := range recs {
		id := recordID(r)
		dup := s.recent.has(id)
		if !dup && check {
			var err error
			if dup, err = isChained(ctx, chain, r.RequestID, id); err != nil {
				return err
			}
		}
		if dup {
			s.duplicates.Add(1)
			continue
		}
		span := startRecord(ctx, traces, r)
		r.Seq, r.PrevHash = s.lastSeq+1, s.lastHash
		if s.linkToMessageStart {
			r.PrevHash = messageStart
		}
		r.Hash = Hash(r)
		body, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("evidence service: %w", err)
		}
		w, err := s.js.PublishMsgAsync(&nats.Msg{Subject: chainSubject(r.RequestID), Data: body},
			jetstream.WithExpectStream(ChainStream), jetstream.WithExpectLastSequence(s.lastSeq))
		if span.IsRecording() {
			span.SetAttributes(attribute.Int64("aruntime.evidence_seq", int64(r.Seq)))
		}
		span.End()
		if err != nil {
			return fmt.Errorf("evidence service: chain seq %d: %w", r.Seq, err)
		}
		// Optimistic: if the write fails, the round fails and runOnce re-reads the real tail.
		s.lastSeq, s.lastHash = r.Seq, r.Hash
		s.recent.add(id)
		st.writes = append(st.writes, w)
		t.lastWrite = len(st.writes) - 1
	}
	st.taken = append(st.taken, t)
	return nil
}

// mayBeChained reports whether a copy of m's record may already be chained: m was replayed from
// a client's spool, or delivered before (to a Service that may have chained it and stopped
// before acknowledging). Every other message is a first delivery of a first publish.
func mayBeChained(m jetstream.Msg) bool {
	if m.Headers().Get(replayHeader) != "" {
		return true
	}
	md, err := m.Metadata()
	return err != nil || md.NumDelivered > 1
}

// isChained reports whether the record with id is on requestID's chain subject. Every chain
// write of earlier rounds is acknowledged, so it is visible here; this round's are in ids.
func isChained(ctx context.Context, chain jetstream.Stream, requestID, id string) (bool, error) {
	last, err := chain.GetLastMsgForSubject(ctx, chainSubject(requestID))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil // the common case for a replayed record: nothing of its request yet
	}
	if err != nil {
		return false, fmt.Errorf("evidence service: duplicate check: %w", err)
	}
	if r, err := decodeRecord(last.Data); err == nil && recordID(r) == id {
		return true, nil
	}
	recs, err := recordsOf(ctx, chain, requestID) // a request with several records
	if err != nil {
		return false, fmt.Errorf("evidence service: duplicate check: %w", err)
	}
	for _, r := range recs {
		if recordID(r) == id {
			return true, nil
		}
	}
	return false, nil
}

// settle acknowledges each inbox message of the round whose records are all chained (or were
// duplicates), in order, and returns the rest to the inbox: from the first message with an
// unacknowledged write on, a record of theirs already chained is recognised on redelivery.
func (s *Service) settle(ctx context.Context, st *roundState) error {
	for i, t := range st.taken {
		if t.lastWrite >= st.confirmed {
			for _, rest := range st.taken[i:] {
				_ = rest.msg.Nak() // best effort; otherwise it comes back after inboxAckWait
			}
			return nil
		}
		if t.refused {
			continue // terminated already
		}
		// Acknowledgements are sent without waiting, except the round's last, whose reply
		// means the server has processed all of them: the next round starts from a known floor.
		if i < len(st.taken)-1 {
			_ = t.msg.Ack() // if lost, the message is redelivered and its records recognised
		} else if err := t.msg.DoubleAck(ctx); err != nil {
			return fmt.Errorf("evidence service: inbox ack: %w", err)
		}
	}
	return nil
}
