package evidence

import (
	"fmt"
	"testing"
)

// TestMemoryBoundedByBytes: past its byte bound the store drops its oldest records, counts them,
// says from which Seq it still holds the chain, and never holds more than the bound.
func TestMemoryBoundedByBytes(t *testing.T) {
	const kept = 10                                                   // records of the same size that fit the bound
	stored, err := NewMemory(1).Append(t.Context(), sample("r00000")) // with its chain's hashes
	if err != nil {
		t.Fatal(err)
	}
	size := RecordBytes(stored)
	m := NewMemoryBounded(1<<20, kept*size)
	const appended = 25
	for i := range appended {
		r, err := m.Append(t.Context(), sample(fmt.Sprintf("r%05d", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		if RecordBytes(r) != size {
			t.Fatalf("record %d is %d bytes, want %d", i, RecordBytes(r), size)
		}
		if m.Bytes() > kept*size {
			t.Fatalf("after %d records the store holds %d bytes, over its bound of %d", i+1, m.Bytes(), kept*size)
		}
	}
	recs := all(t, m)
	if len(recs) != kept || recs[0].Seq != appended-kept+1 {
		t.Fatalf("kept %d records from seq %d, want %d from %d", len(recs), recs[0].Seq, kept, appended-kept+1)
	}
	if m.Dropped() != appended-kept || m.TruncatedBefore() != recs[0].Seq {
		t.Fatalf("dropped %d, truncated before %d; want %d and %d", m.Dropped(), m.TruncatedBefore(), appended-kept, recs[0].Seq)
	}
	if err := Verify(recs); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryNotTruncatedReportsZero: a store that dropped nothing says so.
func TestMemoryNotTruncatedReportsZero(t *testing.T) {
	m := NewMemoryBounded(16, 1<<20)
	if _, err := m.Append(t.Context(), sample("r1")); err != nil {
		t.Fatal(err)
	}
	if m.Dropped() != 0 || m.TruncatedBefore() != 0 {
		t.Fatalf("dropped %d, truncated before %d", m.Dropped(), m.TruncatedBefore())
	}
}

// TestMemoryKeepsTheNewestRecordWhateverItsSize: a record larger than the bound still replaces
// everything before it, so the last request's evidence can always be read.
func TestMemoryKeepsTheNewestRecordWhateverItsSize(t *testing.T) {
	m := NewMemoryBounded(16, 1)
	for i := range 3 {
		if _, err := m.Append(t.Context(), sample(fmt.Sprintf("r%d", i+1))); err != nil {
			t.Fatal(err)
		}
	}
	if recs := all(t, m); len(recs) != 1 || recs[0].Seq != 3 || m.TruncatedBefore() != 3 {
		t.Fatalf("kept %d records, truncated before %d", len(recs), m.TruncatedBefore())
	}
}
