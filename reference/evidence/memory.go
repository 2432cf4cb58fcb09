package evidence

import (
	"context"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/aruntime/arcert/api/discovery"
)

// Memory is the in-memory evidence store of the embedded default (`aruntime up`), where nothing
// needs to survive the process. It is bounded, by records and by bytes: it keeps the newest
// records that fit both bounds and drops the oldest beyond them, counting every drop in Dropped
// and saying from where it still holds the chain in TruncatedBefore, so that losing evidence is
// never silent and no one mistakes it for durable. The
// chain continues across drops (the next record still links to the last one written), so a
// reader sees dropped evidence as a gap before the oldest record kept. It is safe for concurrent
// use.
type Memory struct {
	max      int
	maxBytes uint64

	mu       sync.Mutex
	records  ring   // oldest first, contiguous Seq
	bytes    uint64 // RecordBytes of the records kept
	lastSeq  uint64
	lastHash string
	dropped  uint64
	// truncatedBefore is the Seq of the oldest record kept once any was dropped; 0 before.
	truncatedBefore uint64
}

var (
	_ Sink   = (*Memory)(nil)
	_ Reader = (*Memory)(nil)
)

// NewMemory returns an empty store that keeps the newest maxRecords. maxRecords must be at least
// 1; the configuration validates it, so a smaller value is a programming error and panics.
func NewMemory(maxRecords int) *Memory {
	return NewMemoryBounded(maxRecords, math.MaxUint64)
}

// NewMemoryBounded returns an empty store that keeps the newest records within maxRecords and
// within maxBytes as RecordBytes counts them (the newest record is kept whatever its size).
// maxRecords must be at least 1; the configuration validates the bounds, so a smaller value is a
// programming error and panics.
func NewMemoryBounded(maxRecords int, maxBytes uint64) *Memory {
	if maxRecords < 1 {
		panic(fmt.Sprintf("evidence: NewMemory(%d): maxRecords must be at least 1", maxRecords))
	}
	return &Memory{max: maxRecords, maxBytes: maxBytes, lastHash: GenesisHash}
}

// recordOverhead is the memory of a Record beyond its strings' bytes: the struct itself.
var recordOverhead = uint64(unsafe.Sizeof(discovery.Record{}))

// RecordBytes is what the store counts a record as holding: the struct, every byte of its
// strings and its tool calls. Strings a record shares with the configuration (tenant, model, ...) are counted too,
// so the count errs on the side of keeping fewer records than the bound would allow.
func RecordBytes(r discovery.Record) uint64 {
	n := recordOverhead
	for _, s := range []string{r.RequestID, r.Tenant, r.Application, r.User, r.ClientUser, r.TrafficClass,
		r.Model, r.Deployment, r.Attestation, r.ArtifactDigest, r.PolicyVersion, r.ServedBy.Region, r.ServedBy.Pool,
		r.ServedBy.Provider, r.ServedBy.Deployment, r.ServedBy.Worker, string(r.Outcome), string(r.Reason),
		r.CacheTier, r.CostCenter, r.TraceID, r.PrevHash, r.Hash} {
		n += uint64(len(s))
	}
	for _, c := range r.ToolCalls {
		n += uint64(unsafe.Sizeof(c)) + uint64(len(c.ID)+len(c.Name)+len(c.Side)+len(c.Outcome))
	}
	return n
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
	_, span, _ := startAppend(ctx, r)
	defer span.End()
	r.Time = r.Time.UTC()

	m.mu.Lock()
	defer m.mu.Unlock()
	r.Seq = m.lastSeq + 1
	r.PrevHash = m.lastHash
	r.Hash = Hash(r)
	m.lastSeq, m.lastHash = r.Seq, r.Hash
	size := RecordBytes(r)
	for m.records.len() > 0 && (m.records.len() == m.max || m.bytes+size > m.maxBytes) {
		m.bytes -= RecordBytes(m.records.pop())
		m.dropped++
	}
	m.records.push(r, m.max)
	m.bytes += size
	if m.dropped > 0 {
		m.truncatedBefore = m.records.seqAt(0)
	}
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
	for i := range m.records.len() {
		if m.records.requestIDAt(i) == requestID {
			out = append(out, m.records.at(i))
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
	n := m.records.len()
	if n == 0 || seq >= m.lastSeq {
		return nil, nil
	}
	// Seq is contiguous from the oldest kept record; when seq is before it this starts at the
	// oldest, and the gap shows.
	oldest := m.records.seqAt(0)
	start := 0
	if seq+1 > oldest {
		start = int(seq + 1 - oldest)
	}
	out := make([]discovery.Record, 0, min(limit, n-start))
	for i := start; i < n && len(out) < limit; i++ {
		out = append(out, m.records.at(i))
	}
	return out, nil
}

// Dropped is how many of the oldest records the bound has dropped since the store was created,
// for a metric and for the evidence endpoint to report, so lost evidence is never silent.
func (m *Memory) Dropped() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dropped
}

// TruncatedBefore is the Seq before which the bound dropped every record, 0 when it dropped none:
// the evidence endpoint reports it, so a reader knows the chain it sees starts there.
func (m *Memory) TruncatedBefore() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.truncatedBefore
}

// Bytes is what the records kept hold, as RecordBytes counts them.
func (m *Memory) Bytes() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}
