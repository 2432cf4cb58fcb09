package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/ledger"
)

func entry(seq int) ledger.Entry {
	start := at0(float64(seq) / 100)
	return ledger.Entry{Seq: seq, Tenant: fmt.Sprintf("t%d", seq%3), Class: "interactive", Path: "http", Start: start, End: start.Add(40 * time.Millisecond),
		TTFT: 12 * time.Millisecond, Deadline: time.Second, Outcome: outcome.Completed, Reason: "ok", ServedBy: outcome.ServedBy{Region: "eu"}}
}

func TestLedgerConcurrentWritersRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := CreateLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if err := w.Write(entry(g*each + i + 1)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Count() != writers*each {
		t.Errorf("Count = %d, want %d", w.Count(), writers*each)
	}
	seen := map[int]bool{}
	err = ReadLedger(filepath.Join(dir, LedgerFile), func(e ledger.Entry) error {
		if seen[e.Seq] {
			return fmt.Errorf("entry %d twice", e.Seq)
		}
		seen[e.Seq] = true
		if want := entry(e.Seq); e.Tenant != want.Tenant || !e.Start.Equal(want.Start) || e.TTFT != want.TTFT || e.ServedBy != want.ServedBy {
			return fmt.Errorf("entry %d read back as %+v", e.Seq, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != writers*each {
		t.Errorf("read %d entries, want %d", len(seen), writers*each)
	}
	if err := w.Write(entry(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestLedgerFlushShowsEntries(t *testing.T) {
	dir := t.TempDir()
	w, err := CreateLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close() }()
	if err := w.Write(entry(1)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(w.Path())
	if err != nil || strings.Count(string(data), "\n") != 1 {
		t.Errorf("after Flush the file holds %q (%v), want one line", data, err)
	}
}

func TestReadLedgerNamesTheLine(t *testing.T) {
	good := `{"seq":1,"tenant":"acme","start":"2026-12-03T14:00:00Z","end":"2026-12-03T14:00:01Z","deadline":0,"served_by":{}}`
	stop := errors.New("stop here")
	for name, tc := range map[string]struct {
		lines []string
		fn    func(ledger.Entry) error
		want  string
	}{
		"syntax":    {[]string{good, "", good, `{"seq":3,`}, nil, "ledger.jsonl:4: unexpected end of JSON input"},
		"type":      {[]string{good, `{"seq":"two","tenant":"acme"}`}, nil, "ledger.jsonl:2: json: cannot unmarshal string"},
		"no tenant": {[]string{good, good, `{"seq":3,"start":"2026-12-03T14:00:00Z"}`}, nil, "ledger.jsonl:3: tenant: empty"},
		"no start":  {[]string{`{"seq":3,"tenant":"acme"}`}, nil, "ledger.jsonl:1: start: missing"},
		"callback":  {[]string{good, good}, func(e ledger.Entry) error { return stop }, "ledger.jsonl:1: stop here"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), LedgerFile)
			if err := os.WriteFile(path, []byte(strings.Join(tc.lines, "\n")), 0o600); err != nil {
				t.Fatal(err)
			}
			fn := tc.fn
			if fn == nil {
				fn = func(ledger.Entry) error { return nil }
			}
			err := ReadLedger(path, fn)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadLedger = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if err := ReadLedger(filepath.Join(t.TempDir(), "none.jsonl"), func(ledger.Entry) error { return nil }); err == nil {
		t.Error("reading a missing ledger succeeded")
	}
}

// BenchmarkLedgerWriter shows the writer's memory stays flat: allocations per entry are the
// encoder's, and nothing is retained (B/op does not grow with b.N).
func BenchmarkLedgerWriter(b *testing.B) {
	w, err := CreateLedger(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	e := entry(1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Seq = i
		if err := w.Write(e); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
