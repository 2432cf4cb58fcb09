package evidence

import (
	"context"
	"fmt"
	"math"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/aruntime/arcert/api/discovery"
)

// Gap is a run of missing records, From to To inclusive.
type Gap struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

// VerifyReport is what VerifyStream found in the chain stream. Unlike Verify, which stops at the
// first problem of a page, it reads the whole chain and lists every gap, because an operator
// asking "was evidence lost?" wants all of it, and it names the first broken link, after which
// every later record is suspect anyway.
type VerifyReport struct {
	// Records is how many messages were read.
	Records uint64 `json:"records"`
	// FirstSeq and LastSeq are the first and last stream sequences read (0 for an empty chain);
	// a record's stream sequence is its Seq.
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	// StreamLastSeq is the stream's last sequence when the read began; the read stops there.
	StreamLastSeq uint64 `json:"stream_last_seq"`
	// Gaps are the sequences missing from the stream, including at its front and end.
	Gaps []Gap `json:"gaps,omitempty"`
	// Broken counts records that do not verify; FirstBroken says what is wrong with the first.
	Broken      uint64 `json:"broken"`
	FirstBroken string `json:"first_broken,omitempty"`
}

// Err is nil for a whole, unbroken chain; otherwise it wraps ErrBrokenChain (if any record is
// broken) or ErrGap and names the first problem.
func (v VerifyReport) Err() error {
	switch {
	case v.Broken > 0:
		return fmt.Errorf("%w: %s (%d broken records)", ErrBrokenChain, v.FirstBroken, v.Broken)
	case len(v.Gaps) > 0:
		g := v.Gaps[0]
		return fmt.Errorf("%w: seq %d to %d missing (%d gaps)", ErrGap, g.From, g.To, len(v.Gaps))
	}
	return nil
}

// VerifyStream reads the chain stream from its first message to its last and checks every
// record: its Seq is its stream sequence, its Hash matches its fields, its PrevHash is the
// previous record's Hash (GenesisHash for Seq 1), and no sequence is missing. The error is for
// a chain that could not be read; what the chain is like is in the report (see Err).
func VerifyStream(ctx context.Context, js jetstream.JetStream) (VerifyReport, error) {
	var c chainCheck
	last, err := scanChain(ctx, js, 1, math.MaxInt, c.add)
	if err != nil {
		return c.rep, err
	}
	c.finish(last)
	return c.rep, nil
}

// chainCheck checks a chain one stored message at a time, so a chain of any length is verified
// in constant memory.
type chainCheck struct {
	rep    VerifyReport
	prev   discovery.Record
	prevAt uint64 // stream sequence of prev; 0 before the first or after an unreadable message
}

// add checks the message at stream sequence at; it is a visitFunc and always asks for more.
func (c *chainCheck) add(at uint64, r discovery.Record, decodeErr error) bool {
	c.rep.Records++
	if c.rep.FirstSeq == 0 {
		c.rep.FirstSeq = at
	}
	if want := c.rep.LastSeq + 1; at > want {
		c.rep.Gaps = append(c.rep.Gaps, Gap{From: want, To: at - 1})
	}
	c.rep.LastSeq = at
	linked := c.prevAt != 0 && c.prevAt == at-1
	switch {
	case decodeErr != nil:
		c.broken(at, fmt.Sprintf("not a record: %v", decodeErr))
		c.prevAt = 0
		return true
	case r.Seq != at:
		c.broken(at, fmt.Sprintf("holds a record with seq %d", r.Seq))
	case Hash(r) != r.Hash:
		c.broken(at, fmt.Sprintf("hash %q does not match its fields", r.Hash))
	case at == 1 && r.PrevHash != GenesisHash:
		c.broken(at, fmt.Sprintf("prev_hash is %q, want the genesis hash", r.PrevHash))
	case linked && r.PrevHash != c.prev.Hash:
		c.broken(at, fmt.Sprintf("prev_hash does not match the hash of seq %d", c.prevAt))
	}
	c.prev, c.prevAt = r, at
	return true
}

// broken counts a bad record and keeps the first description.
func (c *chainCheck) broken(at uint64, what string) {
	c.rep.Broken++
	if c.rep.FirstBroken == "" {
		c.rep.FirstBroken = fmt.Sprintf("seq %d: %s", at, what)
	}
}

// finish records the stream's last sequence and any messages missing at the end.
func (c *chainCheck) finish(streamLast uint64) {
	c.rep.StreamLastSeq = streamLast
	if streamLast > c.rep.LastSeq {
		c.rep.Gaps = append(c.rep.Gaps, Gap{From: c.rep.LastSeq + 1, To: streamLast})
	}
}
