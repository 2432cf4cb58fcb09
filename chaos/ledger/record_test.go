package ledger

import (
	"sync"
	"testing"
	"time"
)

// Entries from concurrent senders, over several blocks, all come back once, ordered by start,
// each numbered by arrival when it came without a number.
func TestRecordKeepsEveryEntryAcrossBlocks(t *testing.T) {
	const senders, each = 4, blockEntries + 7 // every sender alone fills more than a block
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var l Ledger
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				// Start times interleave the senders, so that ordering is the ledger's work.
				l.Record(Entry{Tenant: "t", Start: t0.Add(time.Duration(i*senders+s) * time.Millisecond)})
			}
		})
	}
	wg.Wait()
	all := l.Entries()
	if len(all) != senders*each {
		t.Fatalf("%d entries back, %d recorded", len(all), senders*each)
	}
	seen := make(map[int]bool, len(all))
	for i, e := range all {
		if want := t0.Add(time.Duration(i) * time.Millisecond); !e.Start.Equal(want) {
			t.Fatalf("entry %d starts at %v, want %v: not every entry came back once, in order", i, e.Start, want)
		}
		if e.Seq < 1 || e.Seq > len(all) || seen[e.Seq] {
			t.Fatalf("entry %d has Seq %d: arrival numbers must be 1..%d, each once", i, e.Seq, len(all))
		}
		seen[e.Seq] = true
	}
}

// A number the sender gave is kept.
func TestRecordKeepsAGivenSeq(t *testing.T) {
	var l Ledger
	l.Record(Entry{Seq: 42})
	l.Record(Entry{})
	got := l.Entries()
	if got[0].Seq != 42 && got[1].Seq != 42 {
		t.Errorf("entries %+v: the given Seq 42 was lost", got)
	}
	if got[0].Seq != 2 && got[1].Seq != 2 {
		t.Errorf("the second entry, without a Seq, was numbered %d and %d; want 2 (its arrival)", got[0].Seq, got[1].Seq)
	}
}

// BenchmarkRecord is one sender recording a run's worth of entries: no entry is copied once
// recorded, however many there are.
func BenchmarkRecord(b *testing.B) {
	e := Entry{Tenant: "bench", Path: "http", Endpoint: "http://127.0.0.1:8080"}
	for b.Loop() {
		var l Ledger
		for range 100_000 {
			l.Record(e)
		}
	}
}
