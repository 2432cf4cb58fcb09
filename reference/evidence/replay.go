package evidence

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Replay sizes. A batch is published without waiting record by record and then awaited as a
// whole, so replay runs at publish rate rather than round-trip rate and catches up with a
// client that keeps appending to the spool.
const (
	// replayBatch bounds the spooled records in flight at once.
	replayBatch = 512
	// replayAckTimeout bounds waiting for one batch's acknowledgements before replay backs off
	// and tries again from the batch's first line.
	replayAckTimeout = 10 * time.Second
)

// replayState is where replay has got to in the spool. Only Run touches it.
type replayState struct {
	off     int64 // every line before off is stored in the inbox (or moved aside)
	line    int   // the line number of off, from 1, for naming corrupt lines
	movedTo int64 // corrupt lines before this are already in the .bad file
}

// Run replays the spool whenever it holds records and JetStream is reachable, until ctx is done;
// it then returns nil. Lines go to the inbox in spool order; the spool is truncated only once
// every line has been acknowledged, so a crash at any point loses nothing and at worst resends
// records the inbox or the Service recognises. A line that is not a valid record is moved to the
// spool's .bad file and reported with its file:line, never dropped, and the lines after it
// replay. Run must not be called twice at once.
func (c *Client) Run(ctx context.Context) error {
	t := time.NewTicker(c.replay)
	defer t.Stop()
	var st replayState
	for {
		failed := false
		if c.spool.end() > 0 && c.js.Conn().IsConnected() {
			if err := c.drain(ctx, &st); err != nil && ctx.Err() == nil {
				failed = true
				c.log.Warn("evidence: spool replay paused", "spool", c.spool.path, "line", st.line, "err", err)
			}
		}
		kick := c.kick
		if failed {
			kick = nil // after a failure, retry on the ticker only, not on every spooled record
		}
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-t.C:
		}
	}
}

// drain replays from st to the end of the spool and truncates it. It makes sure the streams
// exist first: a batch published while the inbox is being created would have its first records
// refused and later ones stored, and replaying the refused ones afterwards would reorder them.
func (c *Client) drain(ctx context.Context, st *replayState) error {
	if st.line == 0 {
		st.line = 1
	}
	if err := EnsureStreams(ctx, c.js, c.replicas); err != nil {
		return err
	}
	for {
		end := c.spool.end()
		if st.off >= end {
			done, err := c.spool.truncateIfAt(st.off)
			if err != nil {
				return err
			}
			if done {
				*st = replayState{}
				return nil
			}
			continue // appended to meanwhile
		}
		lines, err := c.spool.read(st.off, end, replayBatch)
		if err != nil {
			return err
		}
		if err := c.replayLines(ctx, st, lines); err != nil {
			return err
		}
		st.off = lines[len(lines)-1].next
		st.line += len(lines)
	}
}

// replayLines publishes one run of lines (the first is line st.line) as marked inbox batches and
// waits for all of them to be acknowledged.
func (c *Client) replayLines(ctx context.Context, st *replayState, lines []spoolLine) error {
	ctx, cancel := context.WithTimeout(ctx, replayAckTimeout)
	defer cancel()
	var futures []jetstream.PubAckFuture
	var bodies [][]byte
	size, records := 0, 0
	send := func() error {
		if len(bodies) == 0 {
			return nil
		}
		f, err := c.js.PublishMsgAsync(inboxMsg(bodies, true))
		if err != nil {
			return fmt.Errorf("evidence: replay %s: %w", c.spool.path, err)
		}
		futures, bodies, size = append(futures, f), nil, 0
		return nil
	}
	for i, l := range lines {
		r, err := decodeRecord(l.data)
		if err == nil {
			r, err = unchained(r)
		}
		if err != nil {
			if err := c.setAside(st, l, st.line+i, err); err != nil {
				return err
			}
			continue
		}
		body, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("evidence: replay: %w", err)
		}
		if len(bodies) == batchMaxRecords || size+len(body)+1 > batchMaxBytes {
			if err := send(); err != nil {
				return err
			}
		}
		bodies, size, records = append(bodies, body), size+len(body)+1, records+1
	}
	if err := send(); err != nil {
		return err
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("evidence: replay: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("evidence: replay: waiting for acknowledgements: %w", ctx.Err())
		}
	}
	c.replayed.Add(uint64(records))
	return nil
}

// setAside moves a corrupt line to the .bad file, once even if its batch is retried, and
// reports it.
func (c *Client) setAside(st *replayState, l spoolLine, line int, why error) error {
	if l.off < st.movedTo {
		return nil
	}
	if err := c.spool.moveAside(l.data); err != nil {
		return fmt.Errorf("evidence: corrupt line %s:%d not moved aside, replay stops before it: %w", c.spool.path, line, err)
	}
	st.movedTo = l.next
	c.corrupt.Add(1)
	c.log.Error("evidence: corrupt spool line moved aside",
		"at", fmt.Sprintf("%s:%d", c.spool.path, line), "to", c.spool.path+".bad", "err", why)
	return nil
}
