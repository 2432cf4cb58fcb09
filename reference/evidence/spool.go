package evidence

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// spool is the local file a Client writes records to while JetStream is unreachable: one JSON
// record per line, each Append fsync'd before it returns, so a record reported written survives
// the process and the machine. Concurrent appends share an fsync (group commit), so a router
// under load during an outage pays one disk flush per batch of requests, not per request.
//
// Only complete lines are ever counted in size, and readers never read past it, so a reader
// never sees half a line being written.
type spool struct {
	path string

	mu   sync.Mutex // guards f's writes and truncation, size and gen
	f    *os.File
	size int64  // bytes of complete lines in the file
	gen  uint64 // appends so far; synced trails it

	syncMu sync.Mutex // one fsync at a time
	synced uint64     // gen covered by the last fsync
}

// openSpool opens or creates the spool at path. A file that does not end in a newline was torn
// by a crash mid-append (that append never returned); a newline is added so the fragment is a
// line of its own, which replay reports as corrupt, and the next record starts clean.
func openSpool(path string) (*spool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("evidence: spool: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("evidence: spool: %w", err)
	}
	s := &spool{path: path, f: f}
	if err := s.repairTail(); err != nil {
		_ = f.Close()
		return nil, err
	}
	// The file's directory entry must survive a crash too, or the fsync'd lines are unreachable.
	if err := syncDir(filepath.Dir(path)); err != nil {
		_ = f.Close()
		return nil, err
	}
	return s, nil
}

// repairTail sets size and ends a torn last line.
func (s *spool) repairTail() error {
	st, err := s.f.Stat()
	if err != nil {
		return fmt.Errorf("evidence: spool %s: %w", s.path, err)
	}
	s.size = st.Size()
	if s.size == 0 {
		return nil
	}
	last := make([]byte, 1)
	if _, err := s.f.ReadAt(last, s.size-1); err != nil {
		return fmt.Errorf("evidence: spool %s: %w", s.path, err)
	}
	if last[0] == '\n' {
		return nil
	}
	if _, err := s.f.Write([]byte{'\n'}); err != nil {
		return fmt.Errorf("evidence: spool %s: end torn line: %w", s.path, err)
	}
	s.size++
	return s.f.Sync()
}

// syncDir fsyncs a directory so a file created in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("evidence: spool dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("evidence: spool dir %s: %w", dir, err)
	}
	return nil
}

// append writes line (which ends in '\n') and returns once it is on disk.
func (s *spool) append(line []byte) error {
	s.mu.Lock()
	if n, err := s.f.Write(line); err != nil {
		if n > 0 { // never leave half a line for the next record to be glued to
			_ = s.f.Truncate(s.size)
		}
		s.mu.Unlock()
		return fmt.Errorf("evidence: spool %s: %w", s.path, err)
	}
	s.size += int64(len(line))
	s.gen++
	mine := s.gen
	s.mu.Unlock()
	return s.sync(mine)
}

// sync returns once an fsync that started after append number gen has finished. Whoever gets
// syncMu first flushes every append written so far; the others find their gen covered.
func (s *spool) sync(gen uint64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.synced >= gen {
		return nil
	}
	s.mu.Lock()
	upTo := s.gen
	s.mu.Unlock()
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("evidence: spool %s: fsync: %w", s.path, err)
	}
	s.synced = upTo
	return nil
}

// end is the size of the complete lines written so far.
func (s *spool) end() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// spoolLine is one line read back, without its newline.
type spoolLine struct {
	data []byte
	off  int64 // where the line starts
	next int64 // where the next line starts
}

// read returns up to limit complete lines starting at off and ending before end.
func (s *spool) read(off, end int64, limit int) ([]spoolLine, error) {
	r := bufio.NewReader(io.NewSectionReader(s.f, off, end-off))
	var out []spoolLine
	for len(out) < limit && off < end {
		b, err := r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return out, fmt.Errorf("evidence: spool %s: %w", s.path, err)
		}
		if len(b) == 0 {
			break
		}
		next := off + int64(len(b))
		if b[len(b)-1] == '\n' {
			b = b[:len(b)-1]
		}
		out = append(out, spoolLine{data: b, off: off, next: next})
		off = next
	}
	return out, nil
}

// truncateIfAt empties the spool if nothing was written past off, and reports whether it did.
// It holds the write lock throughout, so no append can slip in between the check and the
// truncation and be lost.
func (s *spool) truncateIfAt(off int64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size != off {
		return false, nil
	}
	if err := s.f.Truncate(0); err != nil {
		return false, fmt.Errorf("evidence: spool %s: truncate: %w", s.path, err)
	}
	s.size = 0
	// Not strictly needed: if the truncation were lost, replay would resend lines that the
	// Service then recognises as chained. It keeps a restart from redoing that work.
	if err := s.f.Sync(); err != nil {
		return true, fmt.Errorf("evidence: spool %s: fsync: %w", s.path, err)
	}
	return true, nil
}

// moveAside appends a corrupt line to the spool's .bad file and fsyncs it, so it is kept for a
// person to look at before replay passes over it.
func (s *spool) moveAside(line []byte) error {
	f, err := os.OpenFile(s.path+".bad", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("evidence: spool: %w", err)
	}
	_, err = f.Write(append(append([]byte(nil), line...), '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("evidence: spool %s.bad: %w", s.path, err)
	}
	return nil
}

// close closes the file; nothing may use the spool afterwards.
func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.Close()
}
