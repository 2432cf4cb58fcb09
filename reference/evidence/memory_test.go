package evidence

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/discovery"
)

// all reads every stored record.
func all(t *testing.T, m *Memory) []discovery.Record {
	t.Helper()
	recs, err := m.Since(t.Context(), 0, math.MaxInt)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// appendN appends n sample records with request ids r1..rn.
func appendN(t *testing.T, m *Memory, n int) {
	t.Helper()
	for i := range n {
		if _, err := m.Append(t.Context(), sample(fmt.Sprintf("r%d", i+1))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendAssignsSeqAndLinks(t *testing.T) {
	m := NewMemory(16)
	prev := GenesisHash
	for i := range 5 {
		in := sample(fmt.Sprintf("r%d", i+1))
		in.Seq, in.PrevHash, in.Hash = 99, "forged", "forged" // Append owns the chain fields
		in.Time = in.Time.In(time.FixedZone("CET", 3600))
		got, err := m.Append(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != uint64(i+1) || got.PrevHash != prev || got.Hash != Hash(got) {
			t.Fatalf("record %d = seq %d, prev %q, hash %q; want seq %d linked to %q", i, got.Seq, got.PrevHash, got.Hash, i+1, prev)
		}
		if got.Time.Location() != time.UTC || !got.Time.Equal(in.Time) {
			t.Fatalf("stored time %v, want %v in UTC", got.Time, in.Time)
		}
		prev = got.Hash
	}
	recs := all(t, m)
	if len(recs) != 5 || recs[4].Hash != prev {
		t.Fatalf("stored %d records ending in %q, want 5 ending in %q", len(recs), recs[len(recs)-1].Hash, prev)
	}
	if err := Verify(recs); err != nil {
		t.Fatal(err)
	}
}

func TestAppendRejects(t *testing.T) {
	m := NewMemory(4)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	noID, nan, inf := sample(""), sample("r1"), sample("r1")
	nan.DurationMS, inf.DurationMS = math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		r    discovery.Record
		want error
	}{
		{"no request id", t.Context(), noID, ErrInvalidRecord},
		{"NaN duration", t.Context(), nan, ErrInvalidRecord},
		{"infinite duration", t.Context(), inf, ErrInvalidRecord},
		{"cancelled", ctx, sample("r1"), context.Canceled},
	} {
		if _, err := m.Append(tc.ctx, tc.r); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if got, err := m.Append(t.Context(), sample("r1")); err != nil || got.Seq != 1 {
		t.Fatalf("after refusals: seq %d, %v; want seq 1", got.Seq, err)
	}
}

// appenders and perAppender size the concurrent-append test.
const appenders, perAppender = 16, 100

func TestConcurrentAppendsFormOneChain(t *testing.T) {
	m := NewMemory(appenders * perAppender)
	var wg sync.WaitGroup
	for a := range appenders {
		wg.Go(func() {
			for i := range perAppender {
				if _, err := m.Append(t.Context(), sample(fmt.Sprintf("a%d-%d", a, i))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	recs := all(t, m)
	if len(recs) != appenders*perAppender {
		t.Fatalf("stored %d records, want %d", len(recs), appenders*perAppender)
	}
	if err := Verify(recs); err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool, len(recs))
	for _, r := range recs {
		if seen[r.RequestID] {
			t.Fatalf("request %q stored twice", r.RequestID)
		}
		seen[r.RequestID] = true
	}
}

func TestBoundDropsOldestAndCounts(t *testing.T) {
	m := NewMemory(3)
	appendN(t, m, 5)
	if m.Dropped() != 2 {
		t.Errorf("Dropped = %d, want 2", m.Dropped())
	}
	recs := all(t, m)
	if len(recs) != 3 || recs[0].Seq != 3 || recs[2].Seq != 5 {
		t.Fatalf("kept %+v, want seq 3 to 5", recs)
	}
	if err := Verify(recs); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ByRequestID(t.Context(), "r1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("dropped record: %v, want ErrNotFound", err)
	}
	next, err := m.Append(t.Context(), sample("r6"))
	if err != nil || next.Seq != 6 || next.PrevHash != recs[2].Hash {
		t.Fatalf("after drops: seq %d prev %q, %v; want seq 6 linked to seq 5", next.Seq, next.PrevHash, err)
	}
}

func TestByRequestID(t *testing.T) {
	m := NewMemory(8)
	appendN(t, m, 3)
	if _, err := m.Append(t.Context(), sample("r2")); err != nil { // a second record of r2
		t.Fatal(err)
	}
	got, err := m.ByRequestID(t.Context(), "r2")
	if err != nil || len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 4 {
		t.Fatalf("ByRequestID(r2) = %+v, %v; want seq 2 and 4", got, err)
	}
	if _, err := m.ByRequestID(t.Context(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown request: %v, want ErrNotFound", err)
	}
}

func TestSincePages(t *testing.T) {
	m := NewMemory(16)
	appendN(t, m, 10)
	var seqs []uint64
	for after := uint64(0); ; {
		page, err := m.Since(t.Context(), after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 3 {
			t.Fatalf("page of %d, limit 3", len(page))
		}
		for _, r := range page {
			seqs = append(seqs, r.Seq)
		}
		after = page[len(page)-1].Seq
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5 6 7 8 9 10]" {
		t.Errorf("paged seqs %v, want 1 to 10", seqs)
	}
	if _, err := m.Since(t.Context(), 0, 0); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("limit 0: %v, want ErrInvalidArgument", err)
	}
}

func TestNewMemoryRefusesNoRoom(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewMemory(0) did not panic")
		}
	}()
	NewMemory(0)
}
