package evidence

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/aruntime/arcert/api/discovery"
)

// Memory is the in-memory evidence store of the embedded default (`aruntime up`), where nothing
// needs to survive the process. It is bounded: it keeps the newest maxRecords and drops the
// oldest beyond that, counting every drop in Dropped so that losing evidence is never silent. The
// chain continues across drops (the next record still links to the last one written), so a
// reader sees dropped evidence as a gap before the oldest record kept. It is safe for concurrent
// use.
type Memory struct {
	max int

	mu       sync.Mutex
	records  []discovery.Record // oldest first, contiguous Seq
	lastSeq  uint64
	lastHash string
	dropped  uint64
}

var (
	_ Sink   = (*Memory)(nil)
	_ Reader = (*Memory)(nil)
)

// NewMemory returns an empty store that keeps the newest maxRecords. maxRecords must be at least
// 1; the configuration validates it, so a smaller value is a programming error and panics.
func NewMemory(maxRecords int) *Memory {
	if maxRecords < 1 {
		panic(fmt.Sprintf("evidence: NewMemory(%d): maxRecords must be at least 1", maxRecords))
	}
	return &Memory{max: maxRecords, lastHash: GenesisHash}
}

// Append stores r as the next record of the chain; see Sink. The stored Time is r.Time in UTC
// without a monotonic reading, the form its hash covers.
func (m *Memory) Append(ctx context.Context, r discovery.Record) (discovery.Record, error) {
	if err := ctx.Err(); err != nil {
		return discovery.Record{}, err
	}
	if err := validate(r); err != nil {
		return discovery.Record{}, err
	}
	r.Time = r.Time.UTC()

	m.mu.Lock()
	defer m.mu.Unlock()
	r.Seq = m.lastSeq + 1
	r.PrevHash = m.lastHash
	r.Hash = Hash(r)
	m.lastSeq, m.lastHash = r.Seq, r.Hash
	if len(m.records) == m.max {
		m.records[0] = discovery.Record{} // release the dropped record's strings
		m.records = m.records[1:]
		m.dropped++
	}
	m.records = append(m.records, r)
	return r, nil
}

// ByRequestID returns the stored records of one request in chain order, or ErrNotFound. It scans
// every stored record, which is cheap at the sizes the embedded default keeps.
func (m *Memory) ByRequestID(ctx context.Context, requestID string) ([]discovery.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []discovery.Record
	for _, r := range m.records {
		if r.RequestID == requestID {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: request %q", ErrNotFound, requestID)
	}
	return out, nil
}

// Since returns up to limit records with Seq greater than seq; see Reader. limit must be at
// least 1.
func (m *Memory) Since(ctx context.Context, seq uint64, limit int) ([]discovery.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, fmt.Errorf("%w: limit %d, want at least 1", ErrInvalidArgument, limit)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.records) == 0 || seq >= m.lastSeq {
		return nil, nil
	}
	// When seq is before the oldest kept record this starts at the oldest, and the gap shows.
	start, _ := slices.BinarySearchFunc(m.records, seq+1, func(r discovery.Record, s uint64) int {
		return cmp.Compare(r.Seq, s)
	})
	end := start + min(limit, len(m.records)-start)
	return append([]discovery.Record(nil), m.records[start:end]...), nil
}

// Dropped is how many of the oldest records the bound has dropped since the store was created,
// for a metric and for the evidence endpoint to report, so lost evidence is never silent.
func (m *Memory) Dropped() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dropped
}
