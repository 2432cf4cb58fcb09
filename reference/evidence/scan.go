package evidence

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/aruntime/arcert/api/discovery"
)

// Scans read the chain stream in order through an ordered consumer: one server-side cursor per
// page instead of one round trip per record, and the consumer notices a message lost in
// transit and re-reads from it, so a scan never reports a gap that is not in the stream.
const (
	// scanPage bounds the records one fetch brings into memory.
	scanPage = 2048
	// scanIdle is how long the server keeps a scan's consumer after the scan stops using it,
	// so an abandoned scan leaves nothing behind for long.
	scanIdle = 30 * time.Second
	// scanResetAttempts bounds the re-creations of a scan's consumer, so a scan during an outage
	// fails instead of retrying forever.
	scanResetAttempts = 2
)

// visitFunc receives each message of a scan: its stream sequence and the record it holds, or
// why it holds none. Returning false stops the scan.
type visitFunc func(streamSeq uint64, r discovery.Record, decodeErr error) bool

// scanChain calls visit for the chain's messages from stream sequence from on, in order, up to
// limit of them and up to the last message stored when the scan began (a scan of a growing chain
// ends), and returns the stream's last sequence at that time.
func scanChain(ctx context.Context, js jetstream.JetStream, from uint64, limit int, visit visitFunc) (uint64, error) {
	st, err := js.Stream(ctx, ChainStream)
	if err != nil {
		return 0, fmt.Errorf("evidence: chain stream: %w", err)
	}
	last := st.CachedInfo().State.LastSeq
	if from == 0 {
		from = 1
	}
	if from > last || limit < 1 {
		return last, nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       from,
		InactiveThreshold: scanIdle,
		MaxResetAttempts:  scanResetAttempts,
	})
	if err != nil {
		return last, fmt.Errorf("evidence: scan chain: %w", err)
	}
	for seen := 0; seen < limit; {
		if err := ctx.Err(); err != nil {
			return last, err
		}
		// NoWait: a page ends with what is stored, so a stream with missing messages is read
		// to its end at once instead of waiting for messages that will never come.
		batch, err := cons.FetchNoWait(min(scanPage, limit-seen))
		if err != nil {
			return last, fmt.Errorf("evidence: scan chain: %w", err)
		}
		got, stop, failed := 0, false, error(nil)
		for m := range batch.Messages() {
			if stop {
				continue // let the batch finish so its subscription closes
			}
			got++
			md, err := m.Metadata()
			if err != nil {
				stop, failed = true, fmt.Errorf("evidence: scan chain: %w", err)
				continue
			}
			r, derr := decodeRecord(m.Data())
			stop = !visit(md.Sequence.Stream, r, derr) || md.Sequence.Stream >= last
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return last, fmt.Errorf("evidence: scan chain: %w", err)
		}
		if failed != nil {
			return last, failed
		}
		seen += got
		if stop || got == 0 {
			return last, nil
		}
	}
	return last, nil
}
