package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/aruntime/arcert/chaos/ledger"
)

// ledgerBuffer is how much of the ledger is held before it reaches the file: large enough that
// a few hundred requests a second cost a write call now and then, small enough that memory stays
// flat however long the day runs.
const ledgerBuffer = 64 << 10

// ErrClosed is returned by a LedgerWriter's Write after Close.
var ErrClosed = errors.New("journal: ledger closed")

// LedgerWriter streams ledger entries to ledger.jsonl, one JSON object a line, as requests end:
// a game day's Env.Sink. It never holds entries, only a fixed buffer, and is safe for concurrent
// use. The first write error sticks: every later Write returns it, so the run aborts on an
// incomplete record rather than carrying on without one.
type LedgerWriter struct {
	path string

	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
	n   int
	err error
}

// CreateLedger creates (or truncates) DIR/ledger.jsonl, creating DIR.
func CreateLedger(dir string) (*LedgerWriter, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	path := filepath.Join(dir, LedgerFile)
	f, err := os.Create(path) // #nosec G304 -- the output directory the user named
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	w := bufio.NewWriterSize(f, ledgerBuffer)
	return &LedgerWriter{path: path, f: f, w: w, enc: json.NewEncoder(w)}, nil
}

// Path is the ledger file's path.
func (l *LedgerWriter) Path() string { return l.path }

// Write appends e as one line. Its signature is scenario.Env.Sink's.
func (l *LedgerWriter) Write(e ledger.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if err := l.enc.Encode(e); err != nil {
		l.err = fmt.Errorf("journal: writing %s: entry %d: %w", l.path, e.Seq, err)
		return l.err
	}
	l.n++
	return nil
}

// Count is how many entries were written.
func (l *LedgerWriter) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// Flush hands what is buffered to the operating system (no fsync), so a reader of the file
// during the day (tail -f, a crash) sees entries up to about now. A game day calls it each second.
func (l *LedgerWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if err := l.w.Flush(); err != nil {
		l.err = fmt.Errorf("journal: writing %s: %w", l.path, err)
	}
	return l.err
}

// Close flushes, fsyncs and closes the file. Writes after it return ErrClosed; a second Close
// returns nil.
func (l *LedgerWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.err
	if err == nil {
		if ferr := errors.Join(l.w.Flush(), l.f.Sync()); ferr != nil {
			err = fmt.Errorf("journal: writing %s: %w", l.path, ferr)
		}
	}
	if cerr := l.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("journal: closing %s: %w", l.path, cerr)
	}
	l.f, l.err = nil, ErrClosed
	return err
}

// ReadLedger streams the entries of the ledger.jsonl at path to fn, in file order, holding one
// line at a time. Blank lines are skipped. A line that is not an entry, or an entry with no
// tenant or start, is an error naming FILE:LINE; so is fn's error, which stops the reading.
func ReadLedger(path string, fn func(ledger.Entry) error) error {
	f, err := os.Open(path) // #nosec G304 -- the directory the user named
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer func() { _ = f.Close() }()
	r := bufio.NewReaderSize(f, ledgerBuffer)
	for line := 1; ; line++ {
		raw, rerr := r.ReadBytes('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return fmt.Errorf("journal: %s:%d: %w", path, line, rerr)
		}
		if raw = bytes.TrimSpace(raw); len(raw) > 0 {
			var e ledger.Entry
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("journal: %s:%d: %w", path, line, err)
			}
			switch {
			case e.Tenant == "":
				return fmt.Errorf("journal: %s:%d: tenant: empty", path, line)
			case e.Start.IsZero():
				return fmt.Errorf("journal: %s:%d: start: missing", path, line)
			}
			if err := fn(e); err != nil {
				return fmt.Errorf("journal: %s:%d: %w", path, line, err)
			}
		}
		if rerr != nil {
			return nil
		}
	}
}
