package evidence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// spoolLines reads the spool file's lines.
func spoolLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestOutageSpoolsThenReplaysInOrder(t *testing.T) {
	n := startNode(t)
	js := n.connect("client")
	c := newClient(t, js, nil)
	runService(t, n.connect("service"), ServiceOptions{})
	appendAll(t, c, "before", 5)
	waitChained(t, js, 5)

	n.stop()
	eventually(t, "the client to notice the outage", func() bool { return !js.Conn().IsConnected() })
	appendAll(t, c, "during", 20)
	if st := c.Stats(); st.Spooled != 20 {
		t.Fatalf("stats %+v, want 20 spooled", st)
	}
	lines := spoolLines(t, c.spool.path) // on disk when Append returned
	if len(lines) != 20 {
		t.Fatalf("spool holds %d lines, want 20", len(lines))
	}
	for i, l := range lines {
		var r struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.RequestID != fmt.Sprintf("during%d", i+1) {
			t.Fatalf("spool line %d = %q (%v), want record during%d", i+1, l, err, i+1)
		}
	}

	n.start() // same store, same port
	runClient(t, c)
	recs := waitChained(t, js, 25)
	for i, r := range recs[5:] {
		if want := fmt.Sprintf("during%d", i+1); r.RequestID != want {
			t.Fatalf("record %d is %s, want %s: spooled records replay in order", r.Seq, r.RequestID, want)
		}
	}
	eventually(t, "the spool to be emptied", func() bool { return c.spool.end() == 0 })
	if fi, err := os.Stat(c.spool.path); err != nil || fi.Size() != 0 {
		t.Fatalf("spool file after replay: %v, %v; want empty", fi, err)
	}
	mustVerify(t, js, 25)
	appendAll(t, c, "after", 1) // back to publishing straight away
	if st := c.Stats(); st.Published != 6 || st.Replayed != 20 {
		t.Errorf("stats %+v, want 6 published and 20 replayed", st)
	}
	waitChained(t, js, 26)
}

// A spool left by an earlier process, with a corrupt line and a line torn by a crash: the good
// lines replay, the bad ones are kept in the .bad file and reported by file:line.
func TestCorruptSpoolLinesAreMovedAside(t *testing.T) {
	n := startNode(t)
	js := n.connect("client")
	runService(t, n.connect("service"), ServiceOptions{})
	path := filepath.Join(t.TempDir(), "evidence.spool")
	good := func(id string) string {
		b, err := json.Marshal(sample(id))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	content := good("g1") + "\n" + "{not json\n" + `{"request_id":""}` + "\n" + good("g2") + "\n" + `{"request_id":"torn`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	c, err := NewClient(js, ClientOptions{SpoolPath: path, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	runClient(t, c)

	recs := waitChained(t, js, 2)
	if recs[0].RequestID != "g1" || recs[1].RequestID != "g2" {
		t.Fatalf("chained %s, %s; want g1, g2", recs[0].RequestID, recs[1].RequestID)
	}
	eventually(t, "the spool to be emptied", func() bool { return c.spool.end() == 0 })
	bad, err := os.ReadFile(path + ".bad")
	if err != nil {
		t.Fatal(err)
	}
	if want := "{not json\n" + `{"request_id":""}` + "\n" + `{"request_id":"torn` + "\n"; string(bad) != want {
		t.Errorf(".bad file = %q, want %q", bad, want)
	}
	for _, at := range []string{path + ":2", path + ":3", path + ":5"} {
		if !strings.Contains(logs.String(), at) {
			t.Errorf("log does not name %s:\n%s", at, logs.String())
		}
	}
	if st := c.Stats(); st.Corrupt != 3 || st.Replayed != 2 {
		t.Errorf("stats %+v, want 3 corrupt and 2 replayed", st)
	}
}

// Concurrent appends share fsyncs and every line arrives whole.
func TestSpoolConcurrentAppends(t *testing.T) {
	s, err := openSpool(filepath.Join(t.TempDir(), "sub", "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := s.append(fmt.Appendf(nil, "w%d-%d\n", w, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	lines, err := s.read(0, s.end(), writers*each+1)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		seen[string(l.data)] = true
	}
	if len(lines) != writers*each || len(seen) != writers*each {
		t.Fatalf("read %d lines (%d distinct), want %d", len(lines), len(seen), writers*each)
	}
	if s.synced != s.gen {
		t.Errorf("synced up to append %d of %d", s.synced, s.gen)
	}
	if done, err := s.truncateIfAt(lines[len(lines)-2].next); done || err != nil {
		t.Errorf("truncated with a line unreplayed: %v, %v", done, err)
	}
	if done, err := s.truncateIfAt(s.end()); !done || err != nil || s.end() != 0 {
		t.Errorf("truncate at the end: %v, %v, size %d", done, err, s.end())
	}
}

// A torn last line gets its own line, so the next record does not join it.
func TestSpoolRepairsTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(path, []byte("whole\ntorn"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := openSpool(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if err := s.append([]byte("next\n")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(b, []byte("whole\ntorn\nnext\n")) {
		t.Fatalf("spool = %q, %v", b, err)
	}
}
