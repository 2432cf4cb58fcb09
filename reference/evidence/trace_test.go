package evidence

import (
	"testing"

	"github.com/nats-io/nats.go"
)

// TestInboxTraceHeaderKeepsEachRecordsContext: one inbox message carries the trace contexts of
// several records, each found again by its request id; an untraced record has none.
func TestInboxTraceHeaderKeepsEachRecordsContext(t *testing.T) {
	const (
		tpA = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		tpC = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	)
	m := inboxMsg([][]byte{[]byte("a"), []byte("b"), []byte("c")}, false)
	setTraces(m, []string{"req-a", "req-c"}, []string{tpA, tpC})
	got := recordTraces(m.Header)
	if got["req-a"] != tpA || got["req-c"] != tpC || len(got) != 2 {
		t.Errorf("trace contexts %v, want req-a and req-c only", got)
	}
	if recordTraces(nats.Header{}) != nil {
		t.Error("a message without the header has trace contexts")
	}
}
